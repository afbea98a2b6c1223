#!/usr/bin/env bash
# `npm run setup:datasets`: installs Debian's Fashion-MNIST (IDX files under
# /usr/share/datasets/fashion-mnist), used by the default pipeline, the benchmarks and tests.
set -euo pipefail
DIR=/usr/share/datasets/fashion-mnist
if [ -f "$DIR/t10k-images-idx3-ubyte.gz" ]; then
  echo "setup:datasets: Fashion-MNIST already installed in $DIR"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup:datasets: Fashion-MNIST is missing; install Debian's dataset-fashion-mnist package (as root: apt-get install dataset-fashion-mnist)." >&2
  echo "setup:datasets: without it, 'npm run demo' renders its own shapes dataset instead." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq dataset-fashion-mnist
echo "setup:datasets: installed Fashion-MNIST into $DIR"
