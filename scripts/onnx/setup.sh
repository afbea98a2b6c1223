#!/usr/bin/env bash
# `npm run setup:onnx`: makes sure ONNX Runtime for Node (onnxruntime-node) runs here, without
# the download its install script attempts. The CPU library (libonnxruntime.so.1) and the N-API
# binding ship inside the npm package for Linux/macOS/Windows x64 and arm64; the install script
# only fetches the CUDA/TensorRT provider libraries from api.nuget.org, which offline machines
# cannot reach. package.json denies that script (allowScripts, npm 11); with an older npm set
# ONNXRUNTIME_NODE_INSTALL=skip. The GPU route (CUDA provider from PyPI) is in docs/MODELS.md.
#
# Steps, each quick when already done:
#   1. onnxruntime-node at the version package.json pins is in node_modules (installed with its
#      script skipped if not);
#   2. its binding for this platform loads and lists the cpu execution provider;
#   3. where Debian's python3-torch is present: torch.onnx.export writes a small model (what the
#      parity specs do; no `onnx` Python package needed) and ONNX Runtime reproduces PyTorch's
#      output within 1e-5.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON=/usr/bin/python3

say() { echo "setup:onnx: $*"; }
fail() { echo "setup:onnx: ERROR: $*" >&2; exit 1; }

WANTED="$(node -p "require('./package.json').dependencies['onnxruntime-node']")"
[ "$WANTED" != "undefined" ] || fail "package.json does not list onnxruntime-node in dependencies"
installed() { node -p "try { require('onnxruntime-node/package.json').version } catch { '' }" 2>/dev/null; }

# 1. the package
if [ "$(installed)" != "$WANTED" ]; then
  say "installing onnxruntime-node@$WANTED (install script skipped: it would download CUDA libraries from api.nuget.org)"
  mkdir -p .cache/onnx
  if ! ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --ignore-scripts --no-audit --no-fund "onnxruntime-node@$WANTED" >.cache/onnx/npm-install.log 2>&1; then
    fail "npm install onnxruntime-node@$WANTED failed (is the npm registry reachable?); last lines of .cache/onnx/npm-install.log:
$(tail -5 .cache/onnx/npm-install.log)"
  fi
  [ "$(installed)" = "$WANTED" ] || fail "onnxruntime-node $WANTED is not in node_modules after npm install"
fi

# 2. the binding for this platform
PLATFORM_DIR="node_modules/onnxruntime-node/bin/napi-v6/$(node -p 'process.platform')/$(node -p 'process.arch')"
[ -d "$PLATFORM_DIR" ] || fail "onnxruntime-node $WANTED ships no binding for $(node -p 'process.platform + "/" + process.arch') ($PLATFORM_DIR is missing)"
node -e "
  const ort = require('onnxruntime-node');
  const cpu = ort.listSupportedBackends().find((b) => b.name === 'cpu');
  if (!cpu) { console.error('the cpu execution provider is not listed'); process.exit(1); }
" || fail "the onnxruntime-node binding in $PLATFORM_DIR does not load"

# 3. PyTorch -> ONNX -> ONNX Runtime, end to end
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  say "ready: onnxruntime-node $WANTED (cpu); $PYTHON cannot import torch, so the export round trip was not checked (apt-get install python3-torch)"
  exit 0
fi
CHECK_DIR="$(mktemp -d)"
trap 'rm -rf "$CHECK_DIR"' EXIT
"$PYTHON" - "$CHECK_DIR" <<'PY' 2>"$CHECK_DIR/export.log" || fail "torch.onnx.export failed: $(tail -3 "$CHECK_DIR/export.log")"
import sys, torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
x = torch.rand(2, 3, 8, 8)
torch.onnx.export(model, x, f"{sys.argv[1]}/check.onnx", input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)
x.numpy().astype("<f4").tofile(f"{sys.argv[1]}/x.f32")
with torch.no_grad():
    model(x).numpy().astype("<f4").tofile(f"{sys.argv[1]}/y.f32")
PY
node -e "
  const ort = require('onnxruntime-node');
  const fs = require('node:fs');
  const f32 = (p) => { const b = fs.readFileSync(p); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
  (async () => {
    const session = await ort.InferenceSession.create(process.argv[1] + '/check.onnx');
    const out = await session.run({ x: new ort.Tensor('float32', f32(process.argv[1] + '/x.f32'), [2, 3, 8, 8]) });
    const want = f32(process.argv[1] + '/y.f32');
    const worst = Math.max(...out.y.data.map((v, i) => Math.abs(v - want[i])));
    if (!(worst < 1e-5)) { console.error('ONNX Runtime differs from PyTorch by ' + worst); process.exit(1); }
  })().catch((e) => { console.error(e.message); process.exit(1); });
" "$CHECK_DIR" || fail "ONNX Runtime did not reproduce PyTorch on an exported model"
say "ready: onnxruntime-node $WANTED (cpu execution provider; PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') export round trip checked)"
