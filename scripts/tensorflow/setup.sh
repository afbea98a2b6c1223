#!/usr/bin/env bash
# `npm run setup:tensorflow`: gives @tensorflow/tfjs-node its native TensorFlow without the
# download host its own install script uses (storage.googleapis.com), which is often unreachable
# (offline CI, locked-down networks) and whose failure makes npm silently drop the optional dep.
#
# Route: the TensorFlow wheel on PyPI carries the same C API that libtensorflow exports
# (libtensorflow_cc.so.2 + libtensorflow_framework.so.2, headers under tensorflow/include), so we
#   1. make sure @tensorflow/tfjs-node (pinned below) is in node_modules, deduped onto the
#      project's own @tensorflow/tfjs so its backend registers into our single engine;
#   2. fetch the pinned wheel with pip into .cache/tensorflow and check its sha256;
#   3. lay the libraries out where tfjs-node's binding.gyp links them (deps/lib, -ltensorflow);
#   4. build tfjs-node's N-API binding from its own sources with node-gyp, in a staging dir;
#   5. load it there, then move deps/ and lib/ into the package in one step at the end;
#   6. build TEMI's fused CPU kernels against it (scripts/tensorflow/build-kernels.sh).
# A second run with everything in place only re-checks that the binding loads (about a second).
#
# Usage: scripts/tensorflow/setup.sh [--force]
#   --force   rebuild even when a working binding from the same pins is installed
# Environment: TEMI_TF_CACHE (default <repo>/.cache/tensorflow) — where the wheel is kept;
#   TEMI_BUILD_KERNELS=0 — skip step 6 (scripts/tensorflow/build-kernels.sh builds them later).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" setup:tensorflow

# --- pins (change together; the sha256 is PyPI's published digest of exactly this file) -------
TFJS_NODE_PACKAGE="@tensorflow/tfjs-node"
TFJS_NODE_VERSION="4.22.0"
TF_WHEEL_PROJECT="tensorflow-cpu"
TF_WHEEL_VERSION="2.18.1"
TF_WHEEL_FILE="tensorflow_cpu-2.18.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
TF_WHEEL_SHA256="810c75d7149d2da0cb2092187817b0dcabb80728ca9f9cf3a61f3f42fadd1298"
# pip only picks a wheel for the interpreter tag we name; the C libraries inside do not use
# Python, so any tag works — these select the file pinned above.
TF_WHEEL_PIP_TAGS=(--platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311)
# ----------------------------------------------------------------------------------------------

parse_force_flag "$@"

PKG_DIR="$ROOT/node_modules/$TFJS_NODE_PACKAGE"
CACHE_DIR="${TEMI_TF_CACHE:-$ROOT/.cache/tensorflow}"
STAMP_NAME="temi-provisioned.json"
WANTED_STAMP="{\"tfjsNode\":\"$TFJS_NODE_VERSION\",\"wheel\":\"$TF_WHEEL_FILE\",\"sha256\":\"$TF_WHEEL_SHA256\",\"node\":\"$(node -p 'process.versions.modules')\"}"

on_linux_x86_64 ||
  fail "only Linux x86_64 is provisioned by this script (found $(uname -s) $(uname -m)); on other systems use the stock 'npm install @tensorflow/tfjs-node' with internet access"

# TEMI's fused kernels, built against whatever binding is in place at the end; TEMI_BUILD_KERNELS=0
# leaves them to a later explicit build-kernels.sh (the Docker image builds them after copying src).
build_kernels() {
  [ "${TEMI_BUILD_KERNELS:-1}" = 0 ] || bash "$ROOT/scripts/tensorflow/build-kernels.sh"
}

# Prints "ok <TF version>" when the package's binding loads in a fresh process and its backend
# lands in the same engine as the project's @tensorflow/tfjs.
binding_loads() {
  (cd "$ROOT" && TF_CPP_MIN_LOG_LEVEL=3 node --input-type=module -e "
    const tf = await import('@tensorflow/tfjs');
    const { createRequire } = await import('node:module');
    const packageJson = createRequire(process.cwd() + '/').resolve('$TFJS_NODE_PACKAGE/package.json');
    const require = createRequire(packageJson);
    const binding = require(require('@mapbox/node-pre-gyp').find(packageJson));
    await import('$TFJS_NODE_PACKAGE');
    if (!tf.engine().registryFactory['tensorflow']) throw new Error('tensorflow backend did not register into the project engine');
    console.log('ok ' + binding.TF_Version);
  " 2>&1)
}

installed_version() {
  node -p "require('$PKG_DIR/package.json').version" 2>/dev/null || true
}

# --- quick path: already provisioned from the same pins -----------------------------------------
if [ "$FORCE" = 0 ] && [ -f "$PKG_DIR/deps/$STAMP_NAME" ] && [ "$(cat "$PKG_DIR/deps/$STAMP_NAME")" = "$WANTED_STAMP" ]; then
  if out="$(binding_loads)" && [[ "$out" == ok* ]]; then
    say "already provisioned: $TFJS_NODE_PACKAGE $TFJS_NODE_VERSION on TensorFlow ${out#ok } (use --force to rebuild)"
    build_kernels
    exit 0
  fi
  say "a previous install is in place but does not load; rebuilding"
fi

# --- tools --------------------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || fail "python3 not found (node-gyp and pip need it); Debian: apt-get install python3 python3-pip"
python3 -m pip --version >/dev/null 2>&1 || fail "pip not found for python3; Debian: apt-get install python3-pip"
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || fail "a C++ toolchain is needed to build the binding; Debian: apt-get install build-essential"

# node-gyp's JavaScript entry point, run with `node` below. Under `npm run`, PATH starts with
# npm's node-gyp-bin shim (a shell script) and npm_config_node_gyp names the real entry point;
# a node-gyp on PATH may be such a shim or a symlink, so resolve it and insist on a .js file.
NODE_GYP=""
for candidate in "${npm_config_node_gyp:-}" "$(readlink -f "$(command -v node-gyp 2>/dev/null)" 2>/dev/null || true)"; do
  case "$candidate" in *.js) [ -f "$candidate" ] && NODE_GYP="$candidate" && break ;; esac
done
if [ -z "$NODE_GYP" ]; then
  npm_root="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
  [ -f "$npm_root/node_modules/node-gyp/bin/node-gyp.js" ] && NODE_GYP="$npm_root/node_modules/node-gyp/bin/node-gyp.js"
fi
[ -n "$NODE_GYP" ] || fail "node-gyp not found (neither on PATH nor bundled with npm); npm install -g node-gyp"

# node-gyp would otherwise download Node's headers from nodejs.org; use the installed ones.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/node-headers.sh"

# --- 1. the npm package ---------------------------------------------------------------------------
if [ "$(installed_version)" != "$TFJS_NODE_VERSION" ]; then
  say "installing $TFJS_NODE_PACKAGE@$TFJS_NODE_VERSION (install script skipped: it would download from storage.googleapis.com)"
  mkdir -p "$CACHE_DIR"
  if ! npm install --no-save --ignore-scripts --no-audit --no-fund "$TFJS_NODE_PACKAGE@$TFJS_NODE_VERSION" >"$CACHE_DIR/npm-install.log" 2>&1; then
    fail "npm install $TFJS_NODE_PACKAGE@$TFJS_NODE_VERSION failed (is the npm registry reachable?); last lines of $CACHE_DIR/npm-install.log:
$(grep -v 'EBADENGINE' "$CACHE_DIR/npm-install.log" | tail -n 10)"
  fi
fi
[ "$(installed_version)" = "$TFJS_NODE_VERSION" ] || fail "$TFJS_NODE_PACKAGE $TFJS_NODE_VERSION is not in node_modules after npm install"
shared_core="$(cd "$ROOT" && node -e "
  const { createRequire } = require('node:module');
  const fromProject = require.resolve('@tensorflow/tfjs-core');
  const fromNode = createRequire(require.resolve('$TFJS_NODE_PACKAGE/package.json')).resolve('@tensorflow/tfjs-core');
  console.log(fromProject === fromNode ? 'same' : fromProject + ' vs ' + fromNode);
")"
[ "$shared_core" = "same" ] ||
  fail "$TFJS_NODE_PACKAGE resolves a different @tensorflow/tfjs-core than the project ($shared_core); its backend would register into a second engine. Align the @tensorflow/tfjs version in package.json with $TFJS_NODE_VERSION and run npm dedupe."

# --- 2. the wheel ----------------------------------------------------------------------------------
mkdir -p "$CACHE_DIR"
WHEEL="$CACHE_DIR/$TF_WHEEL_FILE"
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
if [ -f "$WHEEL" ] && [ "$(sha_of "$WHEEL")" != "$TF_WHEEL_SHA256" ]; then
  say "cached $TF_WHEEL_FILE has the wrong sha256; fetching it again"
  rm -f "$WHEEL"
fi
if [ ! -f "$WHEEL" ]; then
  say "downloading $TF_WHEEL_PROJECT==$TF_WHEEL_VERSION from PyPI (~230 MB) into ${CACHE_DIR#"$ROOT/"}"
  download_dir="$(mktemp -d "$CACHE_DIR/download.XXXXXX")"
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: "${TF_WHEEL_PIP_TAGS[@]}" \
        --dest "$download_dir" "$TF_WHEEL_PROJECT==$TF_WHEEL_VERSION"; then
    rm -rf "$download_dir"
    fail "pip download $TF_WHEEL_PROJECT==$TF_WHEEL_VERSION failed (is PyPI reachable? pip's index/proxy settings apply)"
  fi
  if [ ! -f "$download_dir/$TF_WHEEL_FILE" ]; then
    got="$(ls "$download_dir")"; rm -rf "$download_dir"
    fail "pip fetched '$got', not the pinned $TF_WHEEL_FILE"
  fi
  got_sha="$(sha_of "$download_dir/$TF_WHEEL_FILE")"
  if [ "$got_sha" != "$TF_WHEEL_SHA256" ]; then
    rm -rf "$download_dir"
    fail "sha256 mismatch for $TF_WHEEL_FILE: expected $TF_WHEEL_SHA256, got $got_sha"
  fi
  mv "$download_dir/$TF_WHEEL_FILE" "$WHEEL"
  rm -rf "$download_dir"
fi

# --- 3-4. stage libraries + headers and build the binding in a temp dir beside the package -----
# Staging sits on the same file system as node_modules so the final step is a rename.
STAGE="$(mktemp -d "$ROOT/node_modules/@tensorflow/.tfjs-node-setup.XXXXXX")"
cleanup() { rm -rf "$STAGE"; }
trap cleanup EXIT

say "extracting libtensorflow from the wheel"
python3 - "$WHEEL" "$STAGE/wheel" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
wanted_files = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
# Only the header trees the C API includes; the full include dir is ~180 MB of C++ we never use.
wanted_dirs = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/",
               "tensorflow/include/tsl/platform/", "tensorflow/include/xla/tsl/c/")
with zipfile.ZipFile(wheel) as zf:
    names = [n for n in zf.namelist() if n in wanted_files or (n.startswith(wanted_dirs) and n.endswith(".h"))]
    missing = wanted_files - set(names)
    if missing:
        sys.exit(f"wheel lacks {sorted(missing)}")
    for name in names:
        zf.extract(name, dest)
PY

BUILD="$STAGE/pkg"
mkdir -p "$BUILD/deps/lib"
cp -r "$PKG_DIR/binding" "$PKG_DIR/binding.gyp" "$PKG_DIR/package.json" "$BUILD/"
mv "$STAGE/wheel/tensorflow/libtensorflow_cc.so.2" "$STAGE/wheel/tensorflow/libtensorflow_framework.so.2" "$BUILD/deps/lib/"
mv "$STAGE/wheel/tensorflow/include" "$STAGE/include-full"
# binding.gyp links -ltensorflow -ltensorflow_framework; the runtime loader then follows the
# SONAMEs (libtensorflow_cc.so.2, libtensorflow_framework.so.2) through the binding's rpath
# $ORIGIN/../../deps/lib. The *.so.2.9.1 names are the ones tfjs-node's own install.js checks,
# so an `npm rebuild` finds the library present instead of trying to download it.
(
  cd "$BUILD/deps/lib"
  ln -s libtensorflow_cc.so.2 libtensorflow.so
  ln -s libtensorflow_cc.so.2 libtensorflow.so.2
  ln -s libtensorflow_framework.so.2 libtensorflow_framework.so
  tf_lib_version="$(node -p "require('$PKG_DIR/scripts/deps-constants.js').LIBTENSORFLOW_VERSION")"
  ln -s libtensorflow_cc.so.2 "libtensorflow.so.$tf_lib_version"
  ln -s libtensorflow_framework.so.2 "libtensorflow_framework.so.$tf_lib_version"
)
nm -D --defined-only "$BUILD/deps/lib/libtensorflow_cc.so.2" 2>/dev/null | grep ' T TFE_Execute@' >/dev/null ||
  fail "libtensorflow_cc.so.2 from $TF_WHEEL_FILE does not export the eager C API (TFE_Execute)"

# tfjs-node's loader (node-pre-gyp find) picks the highest napi version it lists that this Node
# supports; build for exactly that one.
NAPI_VERSION="$(node -p "
  const listed = require('$PKG_DIR/package.json').binary.napi_versions;
  Math.max(...listed.filter((v) => v <= Number(process.versions.napi)));
")"
say "building the N-API binding (napi-v$NAPI_VERSION) with node-gyp"
BUILD_LOG="$CACHE_DIR/node-gyp.log"
ln -s "$STAGE/include-full" "$BUILD/deps/include"
if ! (cd "$BUILD" && node "$NODE_GYP" rebuild --nodedir="$NODE_DIR" --jobs="$(nproc)" \
        --napi_build_version="$NAPI_VERSION" --module_name=tfjs_binding \
        --module_path="lib/napi-v$NAPI_VERSION") >"$BUILD_LOG" 2>&1; then
  fail "node-gyp build of the binding failed; last lines of $BUILD_LOG:
$(tail -n 20 "$BUILD_LOG")"
fi

# Keep only the headers the compiler actually read, so an `npm rebuild` can rebuild offline.
rm "$BUILD/deps/include"
cat "$BUILD"/build/Release/.deps/Release/obj.target/tfjs_binding/binding/*.o.d | tr ' \\' '\n\n' |
  sed -n 's#^.*/deps/include/\(.*[^:]\):*$#\1#p' | sort -u |
  while read -r header; do
    mkdir -p "$BUILD/deps/include/$(dirname "$header")"
    cp "$STAGE/include-full/$header" "$BUILD/deps/include/$header"
  done
[ -f "$BUILD/deps/include/tensorflow/c/eager/c_api.h" ] || fail "could not collect the C API headers the build used"

mkdir -p "$BUILD/lib/napi-v$NAPI_VERSION"
cp "$BUILD/build/Release/tfjs_binding.node" "$BUILD/lib/napi-v$NAPI_VERSION/"
echo "$WANTED_STAMP" >"$BUILD/deps/$STAMP_NAME"

# Load the staged binding before touching the package: its rpath resolves inside the stage.
staged_version="$(TF_CPP_MIN_LOG_LEVEL=3 node -e "console.log(require('$BUILD/lib/napi-v$NAPI_VERSION/tfjs_binding.node').TF_Version)" 2>&1)" ||
  fail "the freshly built binding does not load: $staged_version"

# --- 5. move into place ---------------------------------------------------------------------------
old="$STAGE/previous"
mkdir -p "$old"
for dir in deps lib; do
  [ -e "$PKG_DIR/$dir" ] && mv "$PKG_DIR/$dir" "$old/$dir"
  mv "$BUILD/$dir" "$PKG_DIR/$dir"
done

if ! out="$(binding_loads)" || [[ "$out" != ok* ]]; then
  # Put back what was there, so a failed run never leaves a half-installed package behind.
  for dir in deps lib; do
    rm -rf "${PKG_DIR:?}/$dir"
    [ -e "$old/$dir" ] && mv "$old/$dir" "$PKG_DIR/$dir"
  done
  fail "installed binding does not load through $TFJS_NODE_PACKAGE: $out"
fi
say "ready: $TFJS_NODE_PACKAGE $TFJS_NODE_VERSION on TensorFlow ${out#ok } (libraries from $TF_WHEEL_FILE)"
build_kernels
