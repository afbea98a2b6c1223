#!/usr/bin/env bash
# Builds the decode stage's native fast path (src/stages/decode/native/decode_kernels.c) into
# build/native/decode_kernels.node: JPEGs decoded with libjpeg-turbo (the same pixels as sharp,
# without libvips' ~1-3 ms of setup per image), PNG data inflated with libdeflate, libvips' reduce
# and the bytes-to-float step as vectorised loops. Run by `npm run setup`; quick when nothing
# changed since the last build.
#
# Needs a C compiler, Node's headers, libjpeg-turbo's and libdeflate's headers (Debian:
# libjpeg62-turbo-dev and libdeflate-dev, which `npm run setup` installs when root). Its hot loops
# are compiled for AVX-512, AVX2 and plain x86-64, and the CPU picks at load. Without the addon
# the decode stage works as before: JPEGs with sharp, the rest in JavaScript
# (src/stages/decode/native-decode.ts).
#
# Usage: scripts/decode/build-native.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" setup:decode

parse_force_flag "$@"

SOURCE_DIR="$ROOT/src/stages/decode/native"
ADDON_OUT="$ROOT/build/native/decode_kernels.node"
ADDON_SOURCES=("$SOURCE_DIR"/*.c)
ADDON_STAMPED=("${ADDON_SOURCES[@]}")
ADDON_COMPILER=gcc
# -ffp-contract=off: no fused multiply-add, so the floats are bit for bit the JavaScript path's.
ADDON_FLAGS=(-O3 -std=c11 -shared -fPIC -ffp-contract=off -fvisibility=hidden -Wall -Wextra)
ADDON_LIBS=(-ljpeg -ldeflate)
ADDON_DIGEST="./src/stages/decode/native-decode.ts nativeDecodeSourcesDigest"

command -v gcc >/dev/null 2>&1 || fail "gcc not found: the decode fast path needs a C toolchain; Debian: apt-get install build-essential"
printf '#include <stdio.h>\n#include <jpeglib.h>\n' | gcc -E - >/dev/null 2>&1 ||
  fail "libjpeg-turbo's headers not found (jpeglib.h); Debian: apt-get install libjpeg62-turbo-dev"
printf '#include <libdeflate.h>\n' | gcc -E - >/dev/null 2>&1 ||
  fail "libdeflate's headers not found (libdeflate.h); Debian: apt-get install libdeflate-dev"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/node-headers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/native-addon.sh"

# Prints "ok" when the addon loads and decodes a JPEG sharp made to sharp's pixels.
addon_works() {
  (cd "$ROOT" && TEMI_NATIVE_DECODE="$1" node --import tsx --input-type=module -e "
    const sharp = (await import('sharp')).default;
    const { nativeDecode, nativeDecodeStatus } = await import('./src/stages/decode/native-decode.ts');
    const addon = nativeDecode();
    if (!addon) { console.log(nativeDecodeStatus()); process.exit(0); }
    const raw = Buffer.alloc(48 * 32 * 3, 0).map((_, i) => (i * 37) % 256);
    const jpeg = await sharp(raw, { raw: { width: 48, height: 32, channels: 3 } }).jpeg().toBuffer();
    const mine = addon.decodeJpeg(jpeg, 1, 1e6);
    const theirs = await sharp(jpeg).raw().toBuffer();
    console.log(mine && Buffer.compare(Buffer.from(mine.data), theirs) === 0 ? 'ok' : 'decodes a test JPEG differently from sharp');
  " 2>&1)
}

build_native_addon "decode fast path" "$FORCE"
