#!/usr/bin/env bash
# `bash scripts/onnx/setup-cuda.sh`: the CUDA execution provider for onnxruntime-node from package
# registries only (docs/MODELS.md, "GPU"). onnxruntime-node's own install script fetches these
# libraries from api.nuget.org; the same 1.30.0 build is in the onnxruntime-gpu wheel on PyPI.
#   1. downloads onnxruntime-gpu==1.30.0 (pinned file and sha256) into .cache/onnx/gpu and puts
#      its libonnxruntime_providers_{shared,cuda}.so beside the npm package's libonnxruntime.so.1,
#      where a session asking for "cuda" looks for them;
#   2. downloads NVIDIA's CUDA 13 / cuDNN 9 wheels (scripts/onnx/cuda13-requirements.txt) and
#      unpacks their libraries under .cache/onnx/gpu/nvidia;
#   3. writes .cache/onnx/gpu/env.sh, which sets LD_LIBRARY_PATH to them (source it before node:
#      the loader reads it at process start);
#   4. tries a CUDA session on a small exported model and says what is missing when it fails
#      (exit 1), e.g. the NVIDIA driver (libcuda.so.1, from the system, >= 580 for CUDA 13).
# Re-running skips what is in place. Linux x86_64 only. Environment: TEMI_ONNX_CACHE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ORT_VERSION="1.30.0"
WHEEL="onnxruntime_gpu-1.30.0-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256="4fbf0c5d7b5fb99266c2e8a802e3e64af68bdc383e0f3c7349b985f1087eedaa"
CACHE="${TEMI_ONNX_CACHE:-$ROOT/.cache/onnx}/gpu"
BIN_DIR="$ROOT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

say() { echo "setup:onnx-cuda: $*"; }
fail() { echo "setup:onnx-cuda: ERROR: $*" >&2; exit 1; }

[ "$(uname -s)/$(uname -m)" = "Linux/x86_64" ] || fail "the CUDA provider wheels are for Linux x86_64 (found $(uname -s)/$(uname -m))"
installed="$(node -p "try { require('onnxruntime-node/package.json').version } catch { '' }")"
[ "$installed" = "$ORT_VERSION" ] || fail "onnxruntime-node $ORT_VERSION is needed (found '${installed:-none}'); the provider libraries must come from the same release. Run npm run setup:onnx"
mkdir -p "$CACHE"

# 1. the provider libraries
if [ ! -f "$CACHE/$WHEEL" ] || ! echo "$WHEEL_SHA256  $CACHE/$WHEEL" | sha256sum -c --quiet 2>/dev/null; then
  say "downloading $WHEEL from PyPI (247 MB)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: "${PLATFORMS[@]}" --python-version 3.11 \
    "onnxruntime-gpu==$ORT_VERSION" -d "$CACHE" || fail "pip could not download onnxruntime-gpu==$ORT_VERSION (is PyPI reachable?)"
  echo "$WHEEL_SHA256  $CACHE/$WHEEL" | sha256sum -c --quiet || fail "$WHEEL does not have the pinned sha256"
fi
for lib in libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
  [ -f "$BIN_DIR/$lib" ] || unzip -o -q -j "$CACHE/$WHEEL" "onnxruntime/capi/$lib" -d "$BIN_DIR"
done

# 2. CUDA 13 and cuDNN 9
if [ ! -f "$CACHE/nvidia/.complete" ]; then
  say "downloading the CUDA 13 / cuDNN 9 wheels (scripts/onnx/cuda13-requirements.txt, about 1.5 GB)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: "${PLATFORMS[@]}" --python-version 3.11 \
    -r scripts/onnx/cuda13-requirements.txt -d "$CACHE/wheels" || fail "pip could not download the NVIDIA wheels"
  rm -rf "$CACHE/nvidia.tmp" && mkdir -p "$CACHE/nvidia.tmp"
  for w in "$CACHE"/wheels/nvidia_*.whl; do unzip -o -q "$w" 'nvidia/*' -d "$CACHE/nvidia.tmp"; done
  rm -rf "$CACHE/nvidia" && mv "$CACHE/nvidia.tmp/nvidia" "$CACHE/nvidia" && rm -rf "$CACHE/nvidia.tmp"
  touch "$CACHE/nvidia/.complete"
fi

# 3. the loader path
LIB_DIRS="$(find "$CACHE/nvidia" -type f -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:)"
printf 'export LD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n' "$LIB_DIRS" >"$CACHE/env.sh"
say "libraries in place; before running with \"executionProvider\": \"cuda\": source $CACHE/env.sh"

# 4. a CUDA session
MODEL="$ROOT/.cache/bench/mobilenet_v2.onnx"
if [ ! -f "$MODEL" ]; then
  /usr/bin/python3 -c 'import torch' 2>/dev/null || { say "no model to try (python3-torch missing); skipped the CUDA session check"; exit 0; }
  mkdir -p "$(dirname "$MODEL")" && /usr/bin/python3 bench/reference/export_onnx.py "$MODEL" >/dev/null 2>&1
fi
# shellcheck disable=SC1091
. "$CACHE/env.sh"
if node -e "
  require('onnxruntime-node').InferenceSession.create(process.argv[1], { executionProviders: ['cuda'], logSeverityLevel: 3 })
    .then(() => console.log('setup:onnx-cuda: ready: a CUDA session runs (' + process.argv[1] + ')'))
    .catch((e) => { console.error('setup:onnx-cuda: the CUDA session failed: ' + e.message); process.exit(1); });
" "$MODEL" 2>"$CACHE/session.log"; then
  exit 0
fi
cat "$CACHE/session.log" >&2
command -v nvidia-smi >/dev/null || fail "no NVIDIA driver here (nvidia-smi not found): the libraries are laid out, a CUDA session needs a GPU machine"
fail "the CUDA session failed although a driver is present; the lines above name the library ONNX Runtime could not load"
