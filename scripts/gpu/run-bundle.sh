#!/usr/bin/env bash
# The GPU check on a machine without network, from a bundle made by scripts/gpu/bundle.sh: run in
# a checkout of the bundle's commit. Unpacks node, node_modules, the native addons and the
# tfjs-node-gpu package into the checkout, points the CUDA libraries at what the bundle or the
# machine has, then measures as `npm run check:gpu` does (scripts/gpu/measure.sh).
#
# Usage: scripts/gpu/run-bundle.sh --bundle DIR [--cuda-libs DIR|auto] [--seconds N] [--force] [-- COMMAND...]
#   --bundle DIR     bundle.sh's output: temi-gpu-bundle.tar.zst (or its .part-NN files), SHA256SUMS
#   --cuda-libs DIR  for a bundle made with --cuda runtime-only: a directory holding CUDA 13
#                    (cuBLAS, cuFFT, cuSOLVER, cuSPARSE) and cuDNN 9 libraries, e.g. a PyTorch
#                    install's site-packages/nvidia; they are linked under the CUDA 12 names
#                    TensorFlow 2.18 opens. `auto`: the nvidia/ folder of python3's packages
#   --seconds N      seconds per bench configuration (default 3)
#   --force          unpack over an existing node_modules that no bundle wrote
#   -- COMMAND...    run COMMAND in the bundle's environment instead of the check (node, the CUDA
#                    libraries and TEMI_TFJS_NODE_GPU set), e.g. -- node node_modules/tsx/dist/cli.mjs
#                    bench/embed.bench.ts --backends tensorflow-gpu --batches 16,64 --host-path
# Native CPU figures come from the same GPU build with CUDA hidden (the bundle carries one
# TensorFlow). Exit status: 0 with GPU figures, 3 when no GPU was usable, 1 on a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" check:gpu

BUNDLE=""
CUDA_LIBS=""
SECONDS_PER=3
FORCE=0
COMMAND=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) BUNDLE="$(cd "$2" && pwd)"; shift 2 ;;
    --cuda-libs) CUDA_LIBS="$2"; shift 2 ;;
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --) shift; COMMAND=("$@"); break ;;
    -h|--help) print_usage; exit 0 ;;
    *) unknown_argument "$1" ;;
  esac
done
[ -n "$BUNDLE" ] || fail "--bundle DIR is required (the output of scripts/gpu/bundle.sh)"
[ -f "$BUNDLE/SHA256SUMS" ] || fail "$BUNDLE/SHA256SUMS not found: not a bundle made by scripts/gpu/bundle.sh"
on_linux_x86_64 || fail "the bundle is for Linux x86_64 (found $(uname -s) $(uname -m))"

PKG="$ROOT/.cache/gpu/node_modules/@tensorflow/tfjs-node-gpu"
MARK="$ROOT/node_modules/.temi-gpu-bundle"
WANT="$(cut -d' ' -f1 "$BUNDLE/SHA256SUMS")"

# --- 1. unpack, once per bundle ------------------------------------------------------------------
if [ -f "$MARK" ] && [ "$(cat "$MARK")" = "$WANT" ]; then
  say "bundle ${WANT:0:12} already unpacked"
else
  [ ! -d "$ROOT/node_modules" ] || [ -f "$MARK" ] || [ "$FORCE" = 1 ] ||
    fail "node_modules exists and no bundle wrote it; unpacking would replace packages in it (--force to do so)"
  if [ -f "$BUNDLE/temi-gpu-bundle.tar.zst" ]; then
    PARTS=("$BUNDLE/temi-gpu-bundle.tar.zst")
  else
    mapfile -t PARTS < <(ls "$BUNDLE"/temi-gpu-bundle.tar.zst.part-* 2>/dev/null | sort)
    [ "${#PARTS[@]}" -gt 0 ] || fail "no temi-gpu-bundle.tar.zst or .part-NN files in $BUNDLE"
  fi
  say "checking ${#PARTS[@]} file(s) against SHA256SUMS"
  [ "$(cat "${PARTS[@]}" | sha256sum | cut -d' ' -f1)" = "$WANT" ] ||
    fail "the bundle's sha256 differs from SHA256SUMS: a part is missing, out of order or damaged"
  COMMIT="$(cat "$BUNDLE/COMMIT" 2>/dev/null || echo unknown)"
  HEAD="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  [ "$COMMIT" = "$HEAD" ] || say "note: the bundle was made at commit ${COMMIT:0:12}, this checkout is ${HEAD:0:12}"
  ZSTD="$(command -v zstd || true)"
  [ -n "$ZSTD" ] || { ZSTD="$BUNDLE/zstd"; chmod +x "$ZSTD" 2>/dev/null || true; }
  say "unpacking into the checkout"
  # --ignore-zeros: the archive is several tar streams one after another.
  cat "${PARTS[@]}" | "$ZSTD" -dc --long=30 | tar -x --ignore-zeros -C "$ROOT" || fail "unpacking failed"
  echo "$WANT" >"$MARK"
fi
# The CPU side loads backend "tensorflow" from @tensorflow/tfjs-node: here that is the GPU build.
rm -rf "$ROOT/node_modules/@tensorflow/tfjs-node"
ln -s "$PKG" "$ROOT/node_modules/@tensorflow/tfjs-node"
export PATH="$ROOT/.cache/gpu/node/bin:$PATH"
LIB_PATH="$ROOT/.cache/gpu/lib"

# --- 2. CUDA -------------------------------------------------------------------------------------
if [ -d "$PKG/deps/nvidia/cublas" ]; then
  say "CUDA 12 libraries from the bundle"
else
  [ -n "$CUDA_LIBS" ] || fail "the bundle carries only the CUDA 12 runtime (made with --cuda runtime-only): name the machine's CUDA libraries with --cuda-libs DIR (or auto)"
  if [ "$CUDA_LIBS" = auto ]; then
    CUDA_LIBS="$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])' 2>/dev/null)" ||
      fail "--cuda-libs auto: python3 has no nvidia package (pip's CUDA libraries); name the directory"
  fi
  [ -d "$CUDA_LIBS" ] || fail "--cuda-libs: $CUDA_LIBS is not a directory"
  # TensorFlow 2.18 dlopens CUDA 12 sonames; CUDA 13 ships cuBLAS 13, cuFFT/cuSOLVER/cuSPARSE 12.
  NAMES="$ROOT/.cache/gpu/cuda12-names"
  rm -rf "$NAMES" && mkdir -p "$NAMES"
  for pair in libcublas.so.12=libcublas.so.13 libcublasLt.so.12=libcublasLt.so.13 libcufft.so.11=libcufft.so.12 \
              libcusolver.so.11=libcusolver.so.12 libcusparse.so.12=libcusparse.so.12; do
    found="$(find "$CUDA_LIBS" -name "${pair#*=}" -print -quit 2>/dev/null)"
    [ -n "$found" ] || fail "${pair#*=} not found under $CUDA_LIBS"
    ln -s "$found" "$NAMES/${pair%=*}"
  done
  [ -n "$(find "$CUDA_LIBS" -name 'libcudnn.so.9' -print -quit 2>/dev/null)" ] || fail "libcudnn.so.9 not found under $CUDA_LIBS"
  say "CUDA: runtime 12 from the bundle; cuBLAS, cuFFT, cuSOLVER, cuSPARSE and cuDNN from $CUDA_LIBS under CUDA 12 names (experimental)"
  LIB_PATH="$NAMES:$PKG/deps/nvidia/cuda_runtime/lib:$LIB_PATH:$(find "$CUDA_LIBS" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:)"
fi
export LD_LIBRARY_PATH="$LIB_PATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if [ "${#COMMAND[@]}" -gt 0 ]; then
  export TEMI_TFJS_NODE_GPU="$PKG"
  exec "${COMMAND[@]}"
fi

# --- 3. measure ----------------------------------------------------------------------------------
NOTE=""
command -v nvidia-smi >/dev/null 2>&1 && say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1)" ||
  NOTE="nvidia-smi not found: no NVIDIA driver on this machine"
exec bash "$ROOT/scripts/gpu/measure.sh" --cpu-side gpu-build --seconds "$SECONDS_PER" --note "$NOTE"
