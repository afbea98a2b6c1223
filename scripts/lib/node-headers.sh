# Where Node's C headers are, for the native builds (scripts/tensorflow/setup.sh,
# scripts/tensorflow/build-kernels.sh); sourced after script-preamble.sh. Sets NODE_DIR to the
# prefix holding include/node/node_api.h (npm_config_nodedir when set, else the running node's
# install prefix), or fails with how to get them: node-gyp would download them from nodejs.org.
NODE_DIR="${npm_config_nodedir:-}"
if [ -z "$NODE_DIR" ]; then
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$node_prefix/include/node/node_api.h" ] && NODE_DIR="$node_prefix"
fi
[ -n "$NODE_DIR" ] && [ -f "$NODE_DIR/include/node/node_api.h" ] ||
  fail "Node.js headers not found (looked for <prefix>/include/node/node_api.h); install them (Debian: apt-get install libnode-dev, or the nodejs package that ships include/node) or set npm_config_nodedir"
