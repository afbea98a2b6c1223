#!/usr/bin/env bash
# The measuring half of the GPU check, shared by scripts/gpu/check.sh (after it provisions from
# PyPI) and scripts/gpu/run-bundle.sh (after it unpacks an offline bundle). Expects the
# tfjs-node-gpu package at .cache/gpu/node_modules/@tensorflow/tfjs-node-gpu and, for the GPU side,
# the CUDA libraries findable (its deps/nvidia, or LD_LIBRARY_PATH set by the caller).
#
# 1. loads tensorflow-gpu and says whether TensorFlow placed ops on a GPU (its log: runs/probe.log);
# 2. bench:embed (MobileNetV2, batch 1/16/64) and bench:train (TEMI step, MMDC) on native CPU and
#    on tensorflow-gpu, each in its own process (both packages register a backend named
#    "tensorflow", so two libtensorflow builds never share a process); on the GPU also
#    bench:embed's pipeline rows (batch 16/64, raw/JPEG/photo-like, and --host-path; JPEGs again
#    with 4 decode threads, profiled: runs/prof-pipeline-threads.txt), and
#    bench:embed-phases (a batch's time by phase) on the GPU;
# 3. where a python3 with a CUDA PyTorch is found, the same model and TEMI step in PyTorch on the
#    same GPU (bench/reference/embed_torch.py, temi_torch.py with --device cuda);
# 4. prints GPU / CPU and tfjs / PyTorch ratios (scripts/gpu/compare-runs.ts).
#
# Usage: scripts/gpu/measure.sh [--seconds N] [--cpu-side package|gpu-build] [--note TEXT] [--probe-only]
#   --seconds N     seconds per bench configuration (default 3)
#   --cpu-side      package (default): native CPU is tfjs-node with its own CPU libtensorflow;
#                   gpu-build: native CPU is the GPU build with CUDA hidden (CUDA_VISIBLE_DEVICES=-1),
#                   for a bundle that carries only the GPU build (the same TensorFlow CPU kernels)
#   --note TEXT     added to the "no GPU figures" line (what the caller found, e.g. no driver)
#   --probe-only    step 1 alone
# Environment: TEMI_TORCH_PYTHON, a python3 with CUDA PyTorch for step 3 (default: the
# setup:reference venv, then python3 on PATH). Exit status: 0 with GPU figures, 3 without.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" check:gpu
# Seconds in the messages count from the caller's start when it passes one (check.sh does).
STARTED="${CHECK_GPU_STARTED:-$(date +%s)}"
SECONDS_PER=3
CPU_SIDE=package
NOTE=""
PROBE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --cpu-side) CPU_SIDE="$2"; shift 2 ;;
    --note) NOTE="$2"; shift 2 ;;
    --probe-only) PROBE_ONLY=1; shift ;;
    -h|--help) print_usage; exit 0 ;;
    *) unknown_argument "$1" ;;
  esac
done
case "$CPU_SIDE" in package|gpu-build) ;; *) fail "--cpu-side takes package or gpu-build, not '$CPU_SIDE'" ;; esac
say() { echo "check:gpu [$(( $(date +%s) - STARTED ))s]: $*"; }

PKG="$ROOT/.cache/gpu/node_modules/@tensorflow/tfjs-node-gpu"
RUNS="$ROOT/.cache/gpu/runs"
[ -d "$PKG" ] || fail "no tfjs-node-gpu package at ${PKG#"$ROOT/"} (scripts/gpu/check.sh --provision-only, or scripts/gpu/run-bundle.sh)"
mkdir -p "$RUNS"
rm -f "$RUNS"/*.json "$RUNS"/*.jsonl
# tsx through node rather than npx: a bundle brings node but not npm.
TSX=(node "$ROOT/node_modules/tsx/dist/cli.mjs")

# --- 1. does TensorFlow see the GPU? --------------------------------------------------------------
export TEMI_TFJS_NODE_GPU="$PKG"
PROBE="$(TF_CPP_MIN_LOG_LEVEL=0 node --import tsx --input-type=module -e "
  const { loadBackend } = await import('./src/tf/backends.ts');
  try { await loadBackend('tensorflow-gpu'); console.log('ok'); }
  catch (error) { console.log('no: ' + (error.details?.reason ?? error.message)); }
" 2>"$RUNS/probe.log" | tail -n 1)" || true
if [ "$PROBE" = "ok" ]; then
  say "tensorflow-gpu: TensorFlow placed ops on the GPU ($(grep -o 'Created device [^ ]* with [0-9]* MB memory: *-> device: 0, name: [^,]*' "$RUNS/probe.log" | head -n 1 | sed 's/.*name: //'))"
  GPU_OK=1
else
  say "tensorflow-gpu unavailable: ${PROBE#no: } (TensorFlow's own lines: ${RUNS#"$ROOT/"}/probe.log; ldd $PKG/deps/lib/libtensorflow_framework.so.2)"
  GPU_OK=0
fi
[ "$PROBE_ONLY" = 0 ] || { [ "$GPU_OK" = 1 ] && exit 0 || exit 3; }

# --- 2. the benches, CPU then GPU, each in its own process ---------------------------------------
bench() { # NAME SCRIPT BACKEND [ENV ARGS...]: one bench run in its own process; output in RUNS/NAME.log
  local name="$1" script="$2" backend="$3"; shift 3
  local extra=(--no-threads)
  [ "$script" = embed ] && extra=(--batches 1,16,64 --no-onnx --no-pipeline)
  env "$@" "${TSX[@]}" "bench/$script.bench.ts" --backends "$backend" --seconds "$SECONDS_PER" --no-torch "${extra[@]}" \
    --json "$RUNS/$name.json" >"$RUNS/$name.log" 2>&1 || fail "bench:$script on $backend failed; see ${RUNS#"$ROOT/"}/$name.log"
}
if [ "$CPU_SIDE" = package ]; then
  say "bench:embed and bench:train on native CPU (tensorflow, tfjs-node), ${SECONDS_PER}s per configuration"
  bench embed-cpu embed tensorflow -u TEMI_TFJS_NODE_GPU
  bench train-cpu train tensorflow -u TEMI_TFJS_NODE_GPU
else
  say "bench:embed and bench:train on native CPU (the GPU build with CUDA hidden), ${SECONDS_PER}s per configuration"
  # The bundle's tfjs-node is the GPU package (run-bundle.sh links it): with no visible device it
  # runs TensorFlow's CPU kernels, and loads as backend "tensorflow".
  bench embed-cpu embed tensorflow CUDA_VISIBLE_DEVICES=-1
  bench train-cpu train tensorflow CUDA_VISIBLE_DEVICES=-1
fi
if [ "$GPU_OK" = 1 ]; then
  say "bench:embed and bench:train on tensorflow-gpu"
  bench embed-gpu embed tensorflow-gpu
  bench train-gpu train tensorflow-gpu
  # With the model on the GPU the pipeline's own thread is what limits it: how far below the bare
  # model it runs, and what it can feed at all (the near-free model of --host-path).
  say "bench:embed's pipeline rows on tensorflow-gpu"
  "${TSX[@]}" bench/embed.bench.ts --backends tensorflow-gpu --batches 16,64 --seconds "$SECONDS_PER" --no-onnx --no-torch \
    --pipeline-input raw,jpeg,photo --pipeline-repeats 1 --host-path --json "$RUNS/pipeline-gpu.json" >"$RUNS/pipeline-gpu.log" 2>&1 ||
    say "the pipeline rows failed (the other figures stand); see ${RUNS#"$ROOT/"}/pipeline-gpu.log"
  # JPEG decode is the pipeline's own limit there; with 4 decode threads it can feed ~1,600 images/s
  # yet the pipeline with the model ran ~700 on an H200 (docs/BENCHMARKS.md, "Second GPU run").
  # With a CPU profile of every thread (runs/prof-pipeline-threads/*.cpuprofile, one file per
  # thread: pipeline, decode workers, embed worker) to see which one holds the others.
  say "bench:embed's JPEG pipeline rows on tensorflow-gpu, 4 decode threads (CPU profiles in ${RUNS#"$ROOT/"}/prof-pipeline-threads)"
  # Node refuses --cpu-prof in NODE_OPTIONS, so the profiled process is node itself with tsx as a loader.
  node --cpu-prof --cpu-prof-dir="$RUNS/prof-pipeline-threads" --import tsx bench/embed.bench.ts --backends tensorflow-gpu --batches 16,64 --seconds "$SECONDS_PER" --no-onnx --no-torch \
    --pipeline-input jpeg,photo --pipeline-repeats 1 --host-path --decode-threads 4 --json "$RUNS/pipeline-gpu-threads.json" \
    >"$RUNS/pipeline-gpu-threads.log" 2>&1 || say "the rows with decode threads failed (the other figures stand); see ${RUNS#"$ROOT/"}/pipeline-gpu-threads.log"
  "${TSX[@]}" scripts/gpu/profile-summary.ts "$RUNS/prof-pipeline-threads" --top 8 >"$RUNS/prof-pipeline-threads.txt" 2>&1 || true
  # Where a batch's time goes (pack, copy in, session, copy out; the addon's session, from pinned
  # memory too): what separates it from PyTorch.
  say "bench:embed-phases on tensorflow-gpu"
  if "${TSX[@]}" bench/embed-phases.bench.ts --backend tensorflow-gpu --seconds 1 --json "$RUNS/phases-gpu.json" >"$RUNS/phases-gpu.log" 2>&1; then
    sed -n '/^ms per batch/,$p' "$RUNS/phases-gpu.log"
  else
    say "bench:embed-phases failed (the other figures stand); see ${RUNS#"$ROOT/"}/phases-gpu.log"
  fi
fi

# --- 3. PyTorch on the same GPU ------------------------------------------------------------------
if [ "$GPU_OK" = 1 ]; then
  TORCH_PYTHON=""
  for candidate in "${TEMI_TORCH_PYTHON:-}" "$ROOT/.cache/reference-venv/bin/python" python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then TORCH_PYTHON="$candidate"; break; fi
  done
  if [ -n "$TORCH_PYTHON" ]; then
    say "PyTorch on the same GPU ($("$TORCH_PYTHON" -c 'import torch; print(torch.__version__)'))"
    "$TORCH_PYTHON" bench/reference/embed_torch.py --device cuda --threads "$(nproc)" --batches 1,16,64 --seconds "$SECONDS_PER" \
      >"$RUNS/torch-embed-gpu.jsonl" 2>"$RUNS/torch-gpu.log" || say "PyTorch embed failed; see ${RUNS#"$ROOT/"}/torch-gpu.log"
    "$TORCH_PYTHON" bench/reference/temi_torch.py --device cuda --threads "$(nproc)" --steps 60 --warmup-steps 5 \
      >"$RUNS/torch-train-gpu.json" 2>>"$RUNS/torch-gpu.log" || say "PyTorch TEMI step failed; see ${RUNS#"$ROOT/"}/torch-gpu.log"
  else
    say "no python3 with a CUDA PyTorch here (set TEMI_TORCH_PYTHON): no PyTorch GPU reference"
  fi
fi

# --- 4. ratios -----------------------------------------------------------------------------------
"${TSX[@]}" scripts/gpu/compare-runs.ts "$RUNS" "${PROBE#no: }${NOTE:+ ($NOTE)}"
say "measured in $(( $(date +%s) - STARTED )) s"
[ "$GPU_OK" = 1 ] || exit 3
