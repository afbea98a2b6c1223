#!/usr/bin/env bash
# `npm run gpu:bundle`: the provisioned GPU route in one file, for a GPU machine without network
# (an air-gapped box, a lent machine that receives files but reaches no registry). It packs, from
# this machine: node itself, the node_modules the benches and the pipeline load (no dev tooling),
# the native addons of build/native and the libjpeg they link, and the tfjs-node-gpu package that
# scripts/gpu/check.sh provisions (run `npm run check:gpu -- --provision-only` first). On the GPU
# machine, a checkout of the same commit runs scripts/gpu/run-bundle.sh on it.
#
# Usage: scripts/gpu/bundle.sh [--out DIR] [--cuda full|runtime-only] [--split-mb N]
#   --out DIR       where to write (default .cache/gpu/bundle)
#   --cuda full     (default) with the CUDA 12 / cuDNN 9 libraries of the route (~2.7 GB before
#                   compression): the GPU machine needs only its NVIDIA driver (>= 555)
#   --cuda runtime-only
#                   only the CUDA 12 runtime (libcudart.so.12, 1 MB); cuBLAS, cuDNN, cuFFT,
#                   cuSOLVER and cuSPARSE come from the GPU machine (run-bundle.sh --cuda-libs).
#                   Experimental: a CUDA 13 install works under CUDA 12's names for what the
#                   embed and training paths call (measured on an H200, docs/BENCHMARKS.md)
#   --split-mb N    cut the archive into parts of at most N MiB, for a transfer with a size limit
# Writes DIR/temi-gpu-bundle.tar.zst (or .tar.zst.part-NN), DIR/SHA256SUMS (of the whole archive),
# DIR/COMMIT (the checkout it was made from) and DIR/zstd (a decompressor, for a machine without one).
# Needs: zstd, the tfjs-node-gpu package under .cache/gpu, node_modules as `npm ci` leaves it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" gpu:bundle

OUT_DIR="$ROOT/.cache/gpu/bundle"
CUDA=full
SPLIT_MB=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT_DIR="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --cuda) CUDA="$2"; shift 2 ;;
    --split-mb) SPLIT_MB="$2"; shift 2 ;;
    -h|--help) print_usage; exit 0 ;;
    *) unknown_argument "$1" ;;
  esac
done
case "$CUDA" in full|runtime-only) ;; *) fail "--cuda takes full or runtime-only, not '$CUDA'" ;; esac
[[ "$SPLIT_MB" =~ ^[0-9]+$ ]] || fail "--split-mb takes a whole number of MiB, not '$SPLIT_MB'"

on_linux_x86_64 || fail "the GPU route is built for Linux x86_64 only (found $(uname -s) $(uname -m))"
command -v zstd >/dev/null 2>&1 || fail "zstd is needed (apt-get install zstd)"
PKG_REL=".cache/gpu/node_modules/@tensorflow/tfjs-node-gpu"
ls "$ROOT/$PKG_REL"/lib/napi-v*/tfjs_binding.node >/dev/null 2>&1 && [ -f "$ROOT/$PKG_REL/deps/lib/libtensorflow_cc.so.2" ] ||
  fail "no provisioned tfjs-node-gpu at $PKG_REL: run npm run check:gpu -- --provision-only first"
[ -f "$ROOT/node_modules/tsx/dist/cli.mjs" ] || fail "node_modules is incomplete (npm ci)"

# What the bundle adds beside the checkout: node and the shared libraries the addons link.
STAGE="$ROOT/.cache/gpu/bundle-stage"
rm -rf "$STAGE" && mkdir -p "$STAGE/.cache/gpu/node/bin" "$STAGE/.cache/gpu/lib"
cp "$(readlink -f "$(command -v node)")" "$STAGE/.cache/gpu/node/bin/node"
for addon in "$ROOT"/build/native/*.node; do
  [ -f "$addon" ] || continue
  # Only libraries a stock Linux lacks: libjpeg-turbo's and libdeflate's, for the decode addon.
  for lib in $(ldd "$addon" | awk '/libjpeg|libdeflate/ { print ($3 == "not" ? $1 : $3) }'); do
    [ -f "$lib" ] || fail "$(basename "$addon") links $lib, which this machine lacks (apt-get install libjpeg62-turbo libdeflate0)"
    cp -L "$lib" "$STAGE/.cache/gpu/lib/"
  done
done

CUDA_EXCLUDE=()
[ "$CUDA" = full ] || CUDA_EXCLUDE=(--exclude="$PKG_REL/deps/nvidia")
ARCHIVE="$OUT_DIR/temi-gpu-bundle.tar.zst"
rm -f "$ARCHIVE" "$ARCHIVE".part-* "$OUT_DIR/SHA256SUMS"
mkdir -p "$OUT_DIR"
say "packing ($CUDA CUDA) into ${ARCHIVE#"$ROOT/"}; compressing takes minutes"
{
  # Dev tooling, other platforms' binaries, source maps and the models the benches never load stay out.
  tar -c -C "$ROOT" \
    --exclude=node_modules/onnxruntime-node --exclude=node_modules/@tensorflow/tfjs-node/deps \
    --exclude=node_modules/typescript --exclude='node_modules/eslint*' --exclude=node_modules/@typescript-eslint \
    --exclude=node_modules/rollup --exclude=node_modules/@rollup --exclude=node_modules/vitest --exclude=node_modules/@vitest \
    --exclude=node_modules/core-js --exclude=node_modules/nsfwjs/dist/browser --exclude=node_modules/nsfwjs/dist/models/inception_v3 \
    --exclude=node_modules/.vite --exclude='*.map' --exclude='*/miniprogram' \
    --exclude='node_modules/usearch/prebuilds/win32*' --exclude='node_modules/usearch/prebuilds/darwin*' \
    "${CUDA_EXCLUDE[@]}" \
    node_modules build/native "$PKG_REL"
  [ "$CUDA" = full ] || tar -c -C "$ROOT" "$PKG_REL/deps/nvidia/cuda_runtime"
  tar -c -C "$STAGE" .cache/gpu/node .cache/gpu/lib
} | zstd -q -T0 -15 --long=30 >"$ARCHIVE"
rm -rf "$STAGE"
sha256sum "$ARCHIVE" | awk '{ print $1 "  temi-gpu-bundle.tar.zst" }' >"$OUT_DIR/SHA256SUMS"
git -C "$ROOT" rev-parse HEAD >"$OUT_DIR/COMMIT" 2>/dev/null || echo unknown >"$OUT_DIR/COMMIT"
cp "$(command -v zstd)" "$OUT_DIR/zstd"
if [ "$SPLIT_MB" -gt 0 ]; then
  split -b "${SPLIT_MB}M" -d -a 2 "$ARCHIVE" "$ARCHIVE.part-"
  rm -f "$ARCHIVE"
fi
say "done: $(du -sh "$OUT_DIR" | cut -f1) in ${OUT_DIR#"$ROOT/"} ($(ls "$OUT_DIR" | wc -l) files); on the GPU machine: bash scripts/gpu/run-bundle.sh --bundle <that directory>"
