#!/usr/bin/env bash
# `npm run setup`: everything the tests and benchmarks need beyond `npm install`, each step
# idempotent and quick when already done:
#   - Debian packages: Fashion-MNIST (data), Chromium (report rendering test),
#     python3-torch / python3-sklearn (reference figures in the benchmarks), python3-onnx (the
#     float16 ONNX fixture of the parity specs) — when root with apt;
#   - Apache Kafka jars from Maven Central (the real broker the tests start);
#   - ONNX Runtime for Node checked (its CPU library ships in the npm package), and PyTorch's
#     ONNX export round trip the ONNX parity specs rely on;
#   - native TensorFlow for @tensorflow/tfjs-node, built offline from the PyPI wheel;
#   - the decode stage's native fast path (libjpeg-turbo and libdeflate; Debian's
#     libjpeg62-turbo-dev and libdeflate-dev).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_debs=()
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need_debs+=(dataset-fashion-mnist)
command -v chromium >/dev/null || need_debs+=(chromium)
/usr/bin/python3 -c 'import torch' 2>/dev/null || need_debs+=(python3-torch)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || need_debs+=(python3-sklearn)
/usr/bin/python3 -c 'import onnx' 2>/dev/null || need_debs+=(python3-onnx)
[ -f /usr/include/jpeglib.h ] || need_debs+=(libjpeg62-turbo-dev)
[ -f /usr/include/libdeflate.h ] || need_debs+=(libdeflate-dev)
if [ ${#need_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need_debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages (as root): ${need_debs[*]}" >&2
    exit 1
  fi
fi

bash scripts/kafka/fetch.sh
# ONNX Runtime before TensorFlow: its fallback npm install could drop the tfjs-node that the next step builds.
bash scripts/onnx/setup.sh
bash scripts/tensorflow/setup.sh
bash scripts/decode/build-native.sh
echo "setup: done"
