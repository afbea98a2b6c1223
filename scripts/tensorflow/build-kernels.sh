#!/usr/bin/env bash
# Builds TEMI's fused CPU kernels (src/tf/native/*.cc) into
# build/native/temi_kernels.node and checks that they register into the TensorFlow that
# @tensorflow/tfjs-node loads. Run by `npm run setup:tensorflow` (both when it provisions and when
# everything is already in place); quick when the source has not changed since the last build.
#
# The addon needs only Node's headers and a C++17 compiler: it finds TensorFlow's C kernel API in
# the library tfjs-node has already loaded, so it links against nothing of TensorFlow's. Its hot
# loops are compiled for AVX-512, AVX2 and plain x86-64, and the CPU picks at load, so a build
# runs on any x86-64 machine (the Docker image's build stage is not its run host).
#
# Without the addon TEMI trains on TensorFlow.js's own ops (same results, slower); see
# src/tf/fused-kernels.ts.
#
# Usage: scripts/tensorflow/build-kernels.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" setup:tensorflow

parse_force_flag "$@"

SOURCE_DIR="$ROOT/src/tf/native"
ADDON_OUT="$ROOT/build/native/temi_kernels.node"
ADDON_SOURCES=("$SOURCE_DIR"/*.cc)
ADDON_STAMPED=("${ADDON_SOURCES[@]}" "$SOURCE_DIR"/*.h)
ADDON_COMPILER=g++
# -z nodelete: the kernels stay registered in TensorFlow after a worker thread that loaded the
# addon exits, so the code they point to must stay loaded too.
# -fno-trapping-math: nothing here reads floating-point exception flags, and without it GCC will
# not compute both sides of a select (GELU's sign, std::max) below AVX-512, whose masks avoid the
# question: the AVX2 and SSE clones of GELU and its gradient stayed scalar (on a 2-core Zen 2,
# TEMI training 775 -> 1,010 anchors/s with the flag).
ADDON_FLAGS=(-O3 -std=c++17 -shared -fPIC -fno-math-errno -fno-trapping-math -fvisibility=hidden -Wall -Wextra -Wl,-z,nodelete)
ADDON_LIBS=(-ldl -pthread)
ADDON_DIGEST="./src/tf/fused-kernels.ts nativeSourcesDigest"

command -v g++ >/dev/null 2>&1 || fail "g++ not found: the fused kernels need a C++ toolchain; Debian: apt-get install build-essential"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/node-headers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/native-addon.sh"

# Prints "ok" when the addon registers its ops into tfjs-node's TensorFlow in a fresh process.
addon_works() {
  (cd "$ROOT" && TF_CPP_MIN_LOG_LEVEL=3 TEMI_FUSED_KERNELS="$1" node --import tsx --input-type=module -e "
    const { loadBackend } = await import('./src/tf/backends.ts');
    await loadBackend('tensorflow');
    const { fusedKernels, fusedKernelsStatus } = await import('./src/tf/fused-kernels.ts');
    console.log(fusedKernels() ? 'ok' : fusedKernelsStatus());
  " 2>&1)
}

build_native_addon "fused kernels" "$FORCE"
