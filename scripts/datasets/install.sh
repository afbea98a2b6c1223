#!/usr/bin/env bash
# `npm run setup:datasets` (and `npm run demo` when the data is missing): installs Debian's
# Fashion-MNIST (IDX files under /usr/share/datasets/fashion-mnist), used by the default
# pipeline, the benchmarks and tests. Exit 0 installed (or already there), 1 not possible here:
# stderr then says how to install it by hand.
set -euo pipefail
DIR=/usr/share/datasets/fashion-mnist
PACKAGE=dataset-fashion-mnist
if [ -f "$DIR/t10k-images-idx3-ubyte.gz" ]; then
  echo "setup:datasets: Fashion-MNIST already installed in $DIR"
  exit 0
fi
how="install Debian's $PACKAGE package as root: apt-get update && apt-get install -y $PACKAGE (or: sudo npm run setup:datasets)"
if ! command -v apt-get >/dev/null; then
  echo "setup:datasets: Fashion-MNIST is missing and this system has no apt-get; on Debian/Ubuntu, $how." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup:datasets: Fashion-MNIST is missing and installing it needs root; $how." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh image are often empty: update only when the package is unknown.
if ! apt-get install -y -qq "$PACKAGE" >/dev/null 2>&1; then
  echo "setup:datasets: apt-get update (the package lists do not know $PACKAGE yet)"
  if ! apt-get update -qq || ! apt-get install -y -qq "$PACKAGE"; then
    echo "setup:datasets: apt-get could not install $PACKAGE (no network or no Debian archive with it?); $how." >&2
    exit 1
  fi
fi
if [ ! -f "$DIR/t10k-images-idx3-ubyte.gz" ]; then
  echo "setup:datasets: $PACKAGE is installed but $DIR/t10k-images-idx3-ubyte.gz is not there." >&2
  exit 1
fi
echo "setup:datasets: installed Fashion-MNIST into $DIR"
