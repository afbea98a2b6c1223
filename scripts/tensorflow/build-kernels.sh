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
SOURCES=("$SOURCE_DIR"/*.cc)
OUT_DIR="$ROOT/build/native"
OUT="$OUT_DIR/temi_kernels.node"
# -z nodelete: the kernels stay registered in TensorFlow after a worker thread that loaded the
# addon exits, so the code they point to must stay loaded too.
CXXFLAGS_KERNELS=(-O3 -std=c++17 -shared -fPIC -fno-math-errno -fvisibility=hidden -Wall -Wextra -Wl,-z,nodelete)

command -v g++ >/dev/null 2>&1 || fail "g++ not found: the fused kernels need a C++ toolchain; Debian: apt-get install build-essential"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/node-headers.sh"

# The stamp names what the addon was built from, so a changed source or compiler rebuilds it.
STAMP="$(cat "${SOURCES[@]}" "$SOURCE_DIR"/*.h <(printf '%s\n' "${CXXFLAGS_KERNELS[*]}") <(g++ --version | head -n 1) | sha256sum | cut -d' ' -f1)"

# Prints "ok" when the addon registers its ops into tfjs-node's TensorFlow in a fresh process.
kernels_register() {
  (cd "$ROOT" && TF_CPP_MIN_LOG_LEVEL=3 TEMI_FUSED_KERNELS="$1" node --import tsx --input-type=module -e "
    const { loadBackend } = await import('./src/tf/backends.ts');
    await loadBackend('tensorflow');
    const { fusedKernels, fusedKernelsStatus } = await import('./src/tf/fused-kernels.ts');
    console.log(fusedKernels() ? 'ok' : fusedKernelsStatus());
  " 2>&1)
}

if [ "$FORCE" = 0 ] && [ -f "$OUT" ] && [ -f "$OUT.sources" ] && [ "$(cat "$OUT.stamp" 2>/dev/null)" = "$STAMP" ]; then
  say "fused kernels up to date (${OUT#"$ROOT/"})"
  exit 0
fi

mkdir -p "$OUT_DIR"
TMP="$(mktemp "$OUT_DIR/.temi_kernels.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
say "building the fused kernels (${SOURCE_DIR#"$ROOT/"})"
g++ "${CXXFLAGS_KERNELS[@]}" -I"$NODE_DIR/include/node" -o "$TMP" "${SOURCES[@]}" -ldl -pthread ||
  fail "compiling ${SOURCE_DIR#"$ROOT/"} failed (see above)"
out="$(kernels_register "$TMP")"
[ "$out" = "ok" ] || fail "the built kernels do not register into tfjs-node's TensorFlow: $out"
# The runtime loads a build only beside the digest of the sources it came from (fused-kernels.ts).
digest="$(cd "$ROOT" && node --import tsx --input-type=module -e "
  const { nativeSourcesDigest } = await import('./src/tf/fused-kernels.ts');
  console.log(nativeSourcesDigest());
")" || fail "could not take the digest of ${SOURCE_DIR#"$ROOT/"}"
mv "$TMP" "$OUT"
echo "$digest" >"$OUT.sources"
echo "$STAMP" >"$OUT.stamp"
say "fused kernels ready: ${OUT#"$ROOT/"}"
