#!/usr/bin/env bash
# `npm run setup:reference`: PyTorch from PyPI, the build a user gets with `pip install torch`
# (MKL + oneDNN, AVX-512 kernels), in a virtual environment under .cache, for the PyTorch
# references that bench:train and bench:embed time in the same run (bench/reference/*.py).
# Debian's python3-torch 1.13 (generic BLAS) is a much slower reference; the benches print both
# where both exist, and take their ratios against this one.
#
# Pinned and hash-checked: scripts/reference/requirements-torch.txt (torch 2.15.0 for CPython
# 3.11, manylinux x86_64, and every dependency, including the ~2.8 GB of CUDA wheels torch's PyPI
# build depends on even on a CPU machine). So it stays out of `npm test`. Beside it
# scripts/reference/requirements-scipy-sklearn.txt (numpy, SciPy, scikit-learn and theirs, ~60 MB),
# which the MMDC and quality references import; a venv that has the torch but not these gets
# them added in place.
#
# Usage: scripts/reference/setup.sh [--wheelhouse DIR]
#   --wheelhouse DIR  install from wheels already in DIR (no index; e.g. a machine without
#                     network), still hash-checked; otherwise pip fetches them from PyPI
# Environment: TEMI_REFERENCE_VENV (default <repo>/.cache/reference-venv),
#              TEMI_REFERENCE_PYTHON (an interpreter 3.11 with venv; found otherwise).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" setup:reference

REQUIREMENTS="$ROOT/scripts/reference/requirements-torch.txt"
SCIPY_REQUIREMENTS="$ROOT/scripts/reference/requirements-scipy-sklearn.txt"
VENV="${TEMI_REFERENCE_VENV:-$ROOT/.cache/reference-venv}"
TORCH_VERSION="$(sed -n 's/^torch==\([^ ]*\) .*/\1/p' "$REQUIREMENTS")"
WHEELHOUSE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --wheelhouse) WHEELHOUSE="$(cd "$2" && pwd)"; shift 2 ;;
    -h|--help) print_usage; exit 0 ;;
    *) unknown_argument "$1" ;;
  esac
done

on_linux_x86_64 || fail "the pinned wheels are for Linux x86_64 (found $(uname -s) $(uname -m))"

# pip install with the pinned, hash-checked wheels, from PyPI or only from --wheelhouse.
pip_install() {
  local python="$1"; shift
  if [ -n "$WHEELHOUSE" ]; then
    "$python" -m pip --disable-pip-version-check install --no-index --find-links "$WHEELHOUSE" --require-hashes --only-binary=:all: "$@"
  else
    "$python" -m pip --disable-pip-version-check install --require-hashes --only-binary=:all: "$@"
  fi
}
SCIPY_IMPORTS="import numpy, scipy.optimize, sklearn.cluster, sklearn.metrics"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  if "$VENV/bin/python" -c "$SCIPY_IMPORTS" 2>/dev/null; then
    say "torch $TORCH_VERSION, SciPy and scikit-learn already in $VENV"
    exit 0
  fi
  say "torch $TORCH_VERSION already in $VENV; adding numpy, SciPy and scikit-learn ${WHEELHOUSE:+from $WHEELHOUSE }(hashes checked)"
  pip_install "$VENV/bin/python" -r "$SCIPY_REQUIREMENTS"
  "$VENV/bin/python" -c "$SCIPY_IMPORTS" || fail "SciPy and scikit-learn do not import from $VENV"
  say "done: $VENV/bin/python (bench:train and bench:embed use it; the MMDC reference too)"
  exit 0
fi

# An interpreter 3.11 (the pinned wheels are cp311) that can make a venv with pip in it.
python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }
PYTHON="${TEMI_REFERENCE_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 /usr/bin/python3.11 /usr/bin/python3 $(ls -d "$HOME"/.pyenv/versions/3.11*/bin/python3 2>/dev/null) python3; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then PYTHON="$(command -v "$candidate")"; break; fi
  done
fi
[ -n "$PYTHON" ] && python_ok "$PYTHON" || fail "no CPython 3.11 with the venv module found (apt-get install python3.11-venv, or set TEMI_REFERENCE_PYTHON)"
say "python: $PYTHON ($("$PYTHON" --version 2>&1))"

FREE_KB="$(df -Pk "$(dirname "$VENV")" 2>/dev/null | awk 'NR==2 {print $4}')"
[ -z "$FREE_KB" ] || [ "$FREE_KB" -gt 12000000 ] || fail "needs about 12 GB free next to $VENV (wheels 2.8 GB + installed 7 GB); found $((FREE_KB / 1024 / 1024)) GB"

rm -rf "$VENV.partial"
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv --prompt "$(basename "$VENV")" "$VENV.partial"
if [ -n "$WHEELHOUSE" ]; then
  say "installing torch $TORCH_VERSION, SciPy and scikit-learn from $WHEELHOUSE (hashes checked)"
else
  say "installing torch $TORCH_VERSION, SciPy and scikit-learn from PyPI (about 2.9 GB to download; hashes checked)"
fi
pip_install "$VENV.partial/bin/python" -r "$REQUIREMENTS" -r "$SCIPY_REQUIREMENTS"
"$VENV.partial/bin/python" -c "import torch; print('setup:reference: torch', torch.__version__, 'MKL', torch.backends.mkl.is_available(), 'oneDNN', torch.backends.mkldnn.is_available(), 'CPU', torch.backends.cpu.get_cpu_capability())" 2>/dev/null
# A venv records its own path in its text files (activate scripts, pip's shebangs, pyvenv.cfg);
# it is made under a sibling name and moved in one step, so those paths are rewritten (the
# interpreter links in bin/ are left as they are).
rm -rf "$VENV"
mv "$VENV.partial" "$VENV"
for f in "$VENV"/bin/* "$VENV/pyvenv.cfg"; do
  if [ -f "$f" ] && [ ! -L "$f" ] && grep -Iq . "$f"; then sed -i "s#$VENV.partial#$VENV#g" "$f"; fi
done
"$VENV/bin/python" -c "import torch; $SCIPY_IMPORTS" || fail "torch, SciPy or scikit-learn does not import from $VENV"
say "done: $VENV/bin/python (bench:train and bench:embed use it; the MMDC reference too)"
