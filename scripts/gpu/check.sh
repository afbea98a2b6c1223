#!/usr/bin/env bash
# `npm run check:gpu`: provisions the GPU route of docs/NATIVE_TENSORFLOW.md ("GPU") from PyPI,
# then measures it with scripts/gpu/measure.sh: bench:embed and bench:train on `tensorflow-gpu` and
# on native CPU (`tensorflow`), PyTorch on the same GPU where a CUDA PyTorch is found, and the
# ratios. Meant for a machine with an NVIDIA GPU and driver >= 555 (CUDA 12.5); without one it
# still provisions and runs the CPU side, and says why there are no GPU figures. A GPU machine
# without network: npm run gpu:bundle here, scripts/gpu/run-bundle.sh there.
#
# What it provisions, all under .cache/gpu (the shared node_modules is not touched):
#   wheels/   tensorflow==2.18.1 (the GPU build, 615 MB) + the CUDA 12 runtime wheels
#             (scripts/tensorflow/cuda12-requirements.txt, 1.7 GB), sha256-checked
#   node_modules/@tensorflow/tfjs-node-gpu
#             tfjs-node-gpu 4.22.0 made from the installed tfjs-node 4.22.0 (the two npm packages
#             carry the same JavaScript and binding sources; only the name and the linked
#             libtensorflow differ), deps/lib = the GPU wheel's libtensorflow_cc / _framework,
#             deps/nvidia/*/lib = the CUDA libraries (the GPU libraries' RUNPATH looks there),
#             and its N-API binding built with node-gyp against the local Node headers
# The benches load it through TEMI_TFJS_NODE_GPU=<that package dir> (src/tf/backends.ts).
#
# Usage: scripts/gpu/check.sh [--wheelhouse DIR] [--seconds N] [--provision-only]
#   --wheelhouse DIR  take the wheels from DIR (no network; still hash-checked): a copy of
#                     .cache/gpu/wheels from a machine that has run this script
#   --seconds N       seconds per bench configuration (default 3)
#   --provision-only  stop after the binding loads
# Needs: Linux x86_64, node + npm (its bundled node-gyp), g++/make, Node headers, python3 + pip
# (PyPI reachable unless --wheelhouse), node_modules as `npm ci` + `npm run setup:tensorflow`
# leave it (tfjs-node 4.22.0 in place). Exit status: 0 with GPU figures, 3 when no GPU was usable
# (CPU figures printed), 1 on a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" check:gpu
STARTED=$(date +%s)

TF_GPU_WHEEL="tensorflow-2.18.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
TF_GPU_SHA256="c9f87e5d2a680a4595f5dc30daf6bbaec9d4129b46d7ef1b2af63c46ac7d2828"
PIP_TAGS=(--platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --only-binary=:all:)
CUDA_REQUIREMENTS="$ROOT/scripts/tensorflow/cuda12-requirements.txt"
TFJS_NODE_VERSION="4.22.0"

GPU_DIR="$ROOT/.cache/gpu"
WHEELS="$GPU_DIR/wheels"
PKG="$GPU_DIR/node_modules/@tensorflow/tfjs-node-gpu"
WHEELHOUSE=""
SECONDS_PER=3
PROVISION_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wheelhouse) WHEELHOUSE="$(cd "$2" && pwd)"; shift 2 ;;
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --provision-only) PROVISION_ONLY=1; shift ;;
    -h|--help) print_usage; exit 0 ;;
    *) unknown_argument "$1" ;;
  esac
done

# say with the seconds since the start (the preamble's fail as it is).
say() { echo "check:gpu [$(( $(date +%s) - STARTED ))s]: $*"; }

on_linux_x86_64 || fail "the GPU route is provisioned for Linux x86_64 only (found $(uname -s) $(uname -m))"
CPU_PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
[ -f "$CPU_PKG/package.json" ] && [ "$(node -p "require('$CPU_PKG/package.json').version")" = "$TFJS_NODE_VERSION" ] ||
  fail "@tensorflow/tfjs-node $TFJS_NODE_VERSION is not in node_modules (npm ci, then npm run setup:tensorflow); its sources make tfjs-node-gpu"

# --- 0. the GPU --------------------------------------------------------------------------------
GPU_NOTE=""
if ! command -v nvidia-smi >/dev/null 2>&1; then
  GPU_NOTE="nvidia-smi not found: no NVIDIA driver on this machine"
elif ! GPU_NAME="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1)" || [ -z "$GPU_NAME" ]; then
  GPU_NOTE="nvidia-smi found no GPU: $GPU_NAME"
else
  say "GPU: $GPU_NAME (driver >= 555 needed for CUDA 12.5)"
fi
[ -z "$GPU_NOTE" ] || say "no GPU here ($GPU_NOTE); provisioning and the CPU side run, the GPU side will report why it is unavailable"

# --- 1. wheels ---------------------------------------------------------------------------------
mkdir -p "$WHEELS/cuda12"
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
PIP=(python3 -m pip --disable-pip-version-check)
if [ ! -f "$WHEELS/$TF_GPU_WHEEL" ] || [ "$(sha_of "$WHEELS/$TF_GPU_WHEEL")" != "$TF_GPU_SHA256" ]; then
  rm -f "$WHEELS/$TF_GPU_WHEEL"
  if [ -n "$WHEELHOUSE" ]; then
    src="$(find "$WHEELHOUSE" -name "$TF_GPU_WHEEL" -print -quit)"
    [ -n "$src" ] || fail "$TF_GPU_WHEEL is not in $WHEELHOUSE"
    cp "$src" "$WHEELS/"
  else
    say "downloading tensorflow==2.18.1 (GPU build, ~615 MB) from PyPI"
    "${PIP[@]}" download --quiet --no-deps "${PIP_TAGS[@]}" -d "$WHEELS" tensorflow==2.18.1 ||
      fail "pip download tensorflow==2.18.1 failed (PyPI reachable? or pass --wheelhouse)"
  fi
  [ "$(sha_of "$WHEELS/$TF_GPU_WHEEL")" = "$TF_GPU_SHA256" ] || { rm -f "$WHEELS/$TF_GPU_WHEEL"; fail "sha256 mismatch for $TF_GPU_WHEEL"; }
fi
say "CUDA 12 runtime wheels (hash-checked by pip)"
if [ -n "$WHEELHOUSE" ]; then
  "${PIP[@]}" download --quiet --no-deps --no-index --find-links "$WHEELHOUSE" --find-links "$WHEELHOUSE/cuda12" \
    --require-hashes "${PIP_TAGS[@]}" -r "$CUDA_REQUIREMENTS" -d "$WHEELS/cuda12" ||
    fail "the CUDA wheels pinned in scripts/tensorflow/cuda12-requirements.txt are not all in $WHEELHOUSE"
else
  "${PIP[@]}" download --quiet --no-deps --require-hashes "${PIP_TAGS[@]}" -r "$CUDA_REQUIREMENTS" -d "$WHEELS/cuda12" ||
    fail "pip download of the CUDA 12 wheels failed (PyPI reachable? or pass --wheelhouse)"
fi

# --- 2-4. the package, its libraries, its binding ------------------------------------------------
STAMP="$TF_GPU_SHA256 $(sha_of "$CUDA_REQUIREMENTS") node-$(node -p 'process.versions.modules')"
if [ -f "$PKG/deps/temi-gpu-stamp" ] && [ "$(cat "$PKG/deps/temi-gpu-stamp")" = "$STAMP" ] && ls "$PKG"/lib/napi-v*/tfjs_binding.node >/dev/null 2>&1; then
  say "tfjs-node-gpu already provisioned in ${PKG#"$ROOT/"}"
else
  command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || fail "g++ and make are needed to build the binding (apt-get install build-essential)"
  NODE_GYP="${npm_config_node_gyp:-}"
  case "$NODE_GYP" in *.js) ;; *) NODE_GYP="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)/node_modules/node-gyp/bin/node-gyp.js" ;; esac
  [ -f "$NODE_GYP" ] || fail "node-gyp not found (npm's bundled one was looked for)"
  NODE_DIR="${npm_config_nodedir:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}"
  [ -f "$NODE_DIR/include/node/node_api.h" ] || fail "Node.js headers not found under $NODE_DIR/include/node (set npm_config_nodedir)"

  say "laying out tfjs-node-gpu $TFJS_NODE_VERSION from tfjs-node's sources"
  rm -rf "$PKG.partial"
  mkdir -p "$PKG.partial/deps/lib"
  cp -r "$CPU_PKG/dist" "$CPU_PKG/binding" "$CPU_PKG/binding.gyp" "$CPU_PKG/scripts" "$CPU_PKG/package.json" "$PKG.partial/"
  node -e "
    const fs = require('node:fs'); const file = '$PKG.partial/package.json';
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')); pkg.name = '@tensorflow/tfjs-node-gpu';
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2));"
  python3 - "$WHEELS/$TF_GPU_WHEEL" "$PKG.partial" <<'PY'
import os, shutil, sys, zipfile
wheel, pkg = sys.argv[1], sys.argv[2]
wanted = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
dirs = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/",
        "tensorflow/include/tsl/platform/", "tensorflow/include/xla/tsl/c/")
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        if name in wanted:
            with zf.open(name) as src, open(os.path.join(pkg, "deps/lib", os.path.basename(name)), "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif name.startswith(dirs) and name.endswith(".h"):
            target = os.path.join(pkg, "deps/include", name[len("tensorflow/include/"):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(name) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
PY
  for whl in "$WHEELS"/cuda12/*.whl; do python3 -m zipfile -e "$whl" "$PKG.partial/deps/" >/dev/null 2>&1 || true; done
  rm -rf "$PKG.partial"/deps/*.dist-info
  [ -d "$PKG.partial/deps/nvidia" ] || fail "no nvidia/ libraries came out of the CUDA wheels"
  (cd "$PKG.partial/deps/lib" && ln -sf libtensorflow_cc.so.2 libtensorflow.so && ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so)
  NAPI_VERSION="$(node -p "Math.max(...require('$PKG.partial/package.json').binary.napi_versions.filter((v) => v <= Number(process.versions.napi)))")"
  say "building the N-API binding (napi-v$NAPI_VERSION) against the GPU libtensorflow"
  if ! (cd "$PKG.partial" && node "$NODE_GYP" rebuild --nodedir="$NODE_DIR" --jobs="$(nproc)" --napi_build_version="$NAPI_VERSION" \
        --module_name=tfjs_binding --module_path="lib/napi-v$NAPI_VERSION") >"$GPU_DIR/node-gyp.log" 2>&1; then
    fail "node-gyp failed; last lines of $GPU_DIR/node-gyp.log:
$(tail -n 15 "$GPU_DIR/node-gyp.log")"
  fi
  mkdir -p "$PKG.partial/lib/napi-v$NAPI_VERSION"
  cp "$PKG.partial/build/Release/tfjs_binding.node" "$PKG.partial/lib/napi-v$NAPI_VERSION/"
  rm -rf "$PKG.partial/build"
  echo "$STAMP" >"$PKG.partial/deps/temi-gpu-stamp"
  rm -rf "$PKG"
  mkdir -p "$(dirname "$PKG")"
  mv "$PKG.partial" "$PKG"
fi

# --- 5-7. measure: GPU probe, benches on CPU and GPU, PyTorch on the GPU, ratios -----------------
export CHECK_GPU_STARTED="$STARTED"
MEASURE=(bash "$ROOT/scripts/gpu/measure.sh" --seconds "$SECONDS_PER" --note "$GPU_NOTE")
if [ "$PROVISION_ONLY" = 1 ]; then
  "${MEASURE[@]}" --probe-only || [ $? = 3 ] || exit 1
  exit 0
fi
exec "${MEASURE[@]}"
