/**
 * TEMI training throughput per TensorFlow.js backend, and against the same spec in PyTorch.
 *
 *   npm run bench:train [-- --seconds 4 --backends tensorflow,wasm,cpu --no-torch --no-threads --json FILE]
 *
 * Shape: 16 heads, 784-d input, hidden 512, bottleneck 256, 10 clusters, batch 256, k 50, on
 * random inputs with random neighbour indices (throughput does not depend on the values).
 * Each backend: a one-step warm-up round (which also covers the frozen-last-layer first epoch;
 * a second when the first took over --seconds, as a GPU's first step does),
 * then a short round to size the timed one, then a timed round of three epochs. Two figures:
 *   - steady: anchors/s over the timed round's last two epochs (about --seconds), steps only, the
 *     way bench/reference/temi_torch.py times PyTorch (after its warm-up steps). The ratios to
 *     PyTorch are taken on this one: the same work on both sides.
 *   - round: anchors/s as the trainer reports the whole round, host work included (the window's
 *     upload, the rollback checkpoints, the serving model's copy): what a pipeline's round costs.
 * A backend too slow for that (a step longer than --seconds: wasm, cpu) is timed on one one-step
 * round and has only the round figure.
 * GFLOP/s counts matmul FLOPs only: see src/clustering/temi/training-flops.ts for the formula.
 *
 * Then, with the first backend: where training runs (the train stage's `thread` option). The same
 * round runs on this thread and in a WorkerTrainer while this thread's event-loop delay is
 * sampled: the longest stall is what a Kafka heartbeat or an incoming batch waits at worst.
 * `--no-threads` skips it.
 *
 * PyTorch: bench/reference/temi_torch.py on 2 threads with PyPI's torch from `npm run
 * setup:reference` (.cache/reference-venv; MKL + oneDNN), THE reference the ratios are taken
 * against, and with Debian's python3-torch 1.13 (generic BLAS) where present, printed too.
 * `--json FILE` writes the figures (for scripts/gpu/check.sh).
 */
import { tf } from '../src/tf/tf.ts';
import { writeFileSync } from 'node:fs';
import { PYTORCH_THREADS, REFERENCE_WAIT_POLICIES, option, runReference, torchReferences, type TorchReference } from './bench-support.ts';
import type { TrainingSet } from '../src/clustering/contracts.ts';
import { SeededRandom } from '../src/numeric/seeded-random.ts';
import { TemiTrainer, temiTrainingFlops } from '../src/clustering/temi/index.ts';
import { type BackendName, loadBackend } from '../src/tf/backends.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ClusterTrainer } from '../src/clustering/contracts.ts';
import { WorkerTrainer } from '../src/clustering/worker/worker-trainer.ts';
import { fusedKernelsStatus } from '../src/tf/fused-kernels.ts';

const SHAPE = { heads: 16, dim: 784, hidden: 512, bottleneck: 256, clusters: 10 };
const BATCH = 256;
const K = 50;

const targetSeconds = Number(option('seconds', '4'));
const backends = option('backends', 'tensorflow,wasm,cpu').split(',') as BackendName[];
const runTorch = !process.argv.includes('--no-torch');
const compareThreads = !process.argv.includes('--no-threads');
const jsonFile = option('json', '');

/** Random rows with random neighbour lists; `count` rows give floor(count / BATCH) steps an epoch. */
function randomTrainingSet(count: number, random: SeededRandom): TrainingSet {
  const embeddings = new Float32Array(count * SHAPE.dim);
  for (let i = 0; i < embeddings.length; i++) embeddings[i] = random.normal();
  const indices = new Int32Array(count * K);
  for (let row = 0; row < count; row++) {
    for (let j = 0; j < K; j++) {
      let n = random.int(count - 1);
      if (n >= row) n += 1;
      indices[row * K + j] = n;
    }
  }
  return { count, dim: SHAPE.dim, embeddings, neighbours: { k: K, indices } };
}

interface Measurement {
  readonly requested: BackendName;
  readonly backend: string;
  /** Steps only, after the round's first epoch; undefined for a backend timed on one step. */
  readonly steadyPerSecond: number | undefined;
  /** Over the whole trainRound, host work included. */
  readonly roundPerSecond: number;
  /** The figure compared with PyTorch: steady where measured. */
  readonly samplesPerSecond: number;
  readonly gflops: number;
  readonly steps: number;
  readonly seconds: number;
}

interface TimedRound {
  readonly samplesPerSecond: number;
  readonly seconds: number;
  /** Anchors/s between the end of the first epoch and the end of the last (epochs >= 2). */
  readonly steadyPerSecond: number | undefined;
}

async function timedRound(trainer: TemiTrainer, stepsPerEpoch: number, epochs: number, random: SeededRandom): Promise<TimedRound> {
  const epochEnds: number[] = [];
  const round = await trainer.trainRound(randomTrainingSet(stepsPerEpoch * BATCH, random), { epochs, onEpoch: () => epochEnds.push(performance.now()) });
  round.model.dispose();
  const steadySeconds = (epochEnds[epochEnds.length - 1] - epochEnds[0]) / 1000;
  return {
    samplesPerSecond: round.samples / round.seconds,
    seconds: round.seconds,
    steadyPerSecond: epochs >= 2 ? ((epochs - 1) * stepsPerEpoch * BATCH) / steadySeconds : undefined,
  };
}

async function measure(name: BackendName, random: SeededRandom): Promise<Measurement> {
  await loadBackend(name);
  const trainer = new TemiTrainer({ ...SHAPE, batchSize: BATCH, seed: 1 });
  try {
    // One warm-up step: it compiles/allocates and takes the frozen-last-layer first epoch.
    let warmup = await trainer.trainRound(randomTrainingSet(BATCH, random), { epochs: 1 });
    warmup.model.dispose();
    if (warmup.seconds >= targetSeconds) {
      // A GPU's first step also pays for setting the device up and compiling its kernels (seconds
      // on an H200, where one step then takes 0.08 s): a second step says whether it is slow.
      warmup = await trainer.trainRound(randomTrainingSet(BATCH, random), { epochs: 1 });
      warmup.model.dispose();
    }
    let stepsPerEpoch = 1;
    let epochs = 1;
    // A slow backend (pure-JS cpu: minutes a step) is timed on a single step; a fast one gets a
    // small round to size the timed one from its steady steps (a round's fixed costs would
    // make a one-step round overstate the time a step takes).
    if (warmup.seconds < targetSeconds) {
      const sizing = await timedRound(trainer, 2, 2, random);
      const secondsPerStep = BATCH / sizing.steadyPerSecond!;
      stepsPerEpoch = Math.max(2, Math.min(60, Math.round(targetSeconds / secondsPerStep / 2)));
      epochs = 3;
    }
    const timed = await timedRound(trainer, stepsPerEpoch, epochs, random);
    const samplesPerSecond = timed.steadyPerSecond ?? timed.samplesPerSecond;
    return {
      requested: name,
      backend: tf.getBackend(),
      steadyPerSecond: timed.steadyPerSecond,
      roundPerSecond: timed.samplesPerSecond,
      samplesPerSecond,
      gflops: (samplesPerSecond * temiTrainingFlops(SHAPE)) / 1e9,
      steps: stepsPerEpoch * epochs,
      seconds: timed.seconds,
    };
  } finally {
    trainer.dispose();
  }
}

interface ThreadMeasurement {
  /** Anchors over the whole trainRound call as the caller sees it. */
  readonly samplesPerSecond: number;
  /** This thread's event-loop delay while the round ran, in milliseconds. */
  readonly maxStallMs: number;
  readonly p99StallMs: number;
}

/** One warm-up step, then a timed round of `steps` steps, with this thread's event loop sampled. */
async function roundWithLoopDelay(trainer: ClusterTrainer, steps: number, random: SeededRandom): Promise<ThreadMeasurement> {
  (await trainer.trainRound(randomTrainingSet(BATCH, random), { epochs: 1 })).model.dispose();
  const data = randomTrainingSet(steps * BATCH, random);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  // Timed from the caller's side: a worker's copy of the window and the model's trip back count.
  const started = performance.now();
  const timed = await trainer.trainRound(data, { epochs: 1 });
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  timed.model.dispose();
  return { samplesPerSecond: timed.samples / seconds, maxStallMs: delay.max / 1e6, p99StallMs: delay.percentile(99) / 1e6 };
}

async function compareTrainingThreads(backend: BackendName, random: SeededRandom): Promise<void> {
  await loadBackend(backend);
  const steps = 20;
  const settings = { ...SHAPE, batchSize: BATCH, seed: 1 };
  console.log(`where training runs (${backend}, ${steps} steps; event-loop delay of the pipeline's thread during the round):`);
  const inThread = new TemiTrainer(settings);
  const main = await roundWithLoopDelay(inThread, steps, random).finally(() => inThread.dispose());
  const worker = await WorkerTrainer.start({
    trainer: 'temi',
    settings: { clusters: SHAPE.clusters, heads: SHAPE.heads, seed: 1, batchSize: BATCH, options: { hidden: SHAPE.hidden, bottleneck: SHAPE.bottleneck } },
    backend,
  });
  const inWorker = await roundWithLoopDelay(worker, steps, random).finally(() => worker.dispose());
  for (const [thread, m] of [['main  ', main], ['worker', inWorker]] as const) {
    console.log(
      `  thread ${thread}: ${m.samplesPerSecond.toFixed(1).padStart(8)} anchors/s   event-loop stall max ${m.maxStallMs.toFixed(1).padStart(6)} ms, p99 ${m.p99StallMs.toFixed(1).padStart(6)} ms`,
    );
  }
  console.log(`  ratio worker / main: anchors/s ${(inWorker.samplesPerSecond / main.samplesPerSecond).toFixed(2)}, longest stall ${(inWorker.maxStallMs / main.maxStallMs).toFixed(3)}`);
}

function pytorchRun(reference: TorchReference, env: Record<string, string>): { samplesPerSecond: number; torch: string } {
  const steps = String(Math.max(4, Math.round(targetSeconds * 2)));
  const out = runReference('temi_torch.py', ['--steps', steps, '--warmup-steps', '2'], reference.python, env);
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const perAnchor = temiTrainingFlops(SHAPE);
  console.log(
    `TEMI training bench: ${SHAPE.heads} heads, D=${SHAPE.dim}, hidden ${SHAPE.hidden}, bottleneck ${SHAPE.bottleneck}, ` +
      `C=${SHAPE.clusters}, batch ${BATCH}, k ${K}; ${(perAnchor / 1e6).toFixed(1)} MFLOP per anchor (matmuls, fwd+bwd+teacher)`,
  );
  const random = new SeededRandom(42);
  const results: Measurement[] = [];
  for (const name of backends) {
    try {
      const m = await measure(name, random);
      results.push(m);
      const steady = m.steadyPerSecond === undefined ? 'one step, round figure' : `steady; ${m.roundPerSecond.toFixed(1)} over the whole round`;
      console.log(
        `  tfjs ${name.padEnd(10)} (${m.backend}): ${m.samplesPerSecond.toFixed(1).padStart(8)} anchors/s  ` +
          `${m.gflops.toFixed(2).padStart(7)} GFLOP/s  (${steady}: ${m.steps} steps in ${m.seconds.toFixed(2)} s; ${fusedKernelsStatus()})`,
      );
    } catch (error) {
      console.log(`  tfjs ${name.padEnd(10)} skipped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  if (compareThreads && results.length > 0) await compareTrainingThreads(results[0].requested, random);
  // MMDC (issue 18): one timed epoch of its ConvNet trainer on 2,048 random 28x28 images, tfjs on
  // the first backend against bench/reference/mmdc_torch.py, same settings, same run (--no-mmdc skips).
  if (!process.argv.includes('--no-mmdc')) {
    const backend = results[0]?.requested ?? 'tensorflow';
    await loadBackend(backend);
    const { MMDC_BENCH, mmdcThroughput } = await import('./mmdc-bench.ts');
    console.log(`MMDC training bench: cnn4 ${MMDC_BENCH.options.widths.join('/')} on 28x28x1, batch 128, samples/s as the trainer reports it (host work included)`);
    await mmdcThroughput(backend, runTorch);
  }
  const torch: { source: string; version: string; samplesPerSecond: number }[] = [];
  if (runTorch) {
    const { found, missing } = torchReferences();
    for (const why of missing) console.log(`  pytorch skipped: ${why}`);
    for (const reference of found) {
      // Each reference as installed and with passive OpenMP waits; the faster is its figure (see REFERENCE_WAIT_POLICIES).
      let best: { samplesPerSecond: number; torch: string } | undefined;
      for (const policy of REFERENCE_WAIT_POLICIES) {
        const run = pytorchRun(reference, policy.env);
        console.log(
          `  pytorch ${run.torch} (${reference.source}, ${PYTORCH_THREADS} threads, ${policy.label}): ${run.samplesPerSecond.toFixed(1).padStart(8)} anchors/s  ` +
            `${((run.samplesPerSecond * perAnchor) / 1e9).toFixed(2).padStart(7)} GFLOP/s`,
        );
        if (!best || run.samplesPerSecond > best.samplesPerSecond) best = run;
      }
      torch.push({ source: reference.source, version: best!.torch, samplesPerSecond: best!.samplesPerSecond });
    }
    for (const t of torch) {
      const what = t.source === 'pypi' ? 'PyPI, the reference' : "Debian's python3-torch";
      for (const m of results) console.log(`  ratio tfjs ${m.requested} (steady steps) / pytorch ${t.version} (${what}, the faster wait policy, same run): ${(m.samplesPerSecond / t.samplesPerSecond).toFixed(2)}`);
      for (const m of results) console.log(`  ratio tfjs ${m.requested} over a whole round (host work included) / pytorch ${t.version}: ${(m.roundPerSecond / t.samplesPerSecond).toFixed(2)}`);
    }
  }
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify({ bench: 'train', tfjs: results.map(({ requested, backend, samplesPerSecond }) => ({ requested, backend, samplesPerSecond })), torch }, null, 2));
  }
}

await main();
