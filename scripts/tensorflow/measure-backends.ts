/**
 * How fast is each TensorFlow.js backend on this machine? Times a dense 784 -> 512 -> 256 network
 * (relu, mean-squared loss): forward alone and forward + backward (gradients of every weight),
 * and prints GFLOP/s. Not a test: speed depends on the machine. Run:
 *
 *   npx tsx scripts/tensorflow/measure-backends.ts [--batch 256] [--seconds 3] [backend ...]
 *
 * FLOP counts: a dense layer costs 2·batch·in·out multiply-adds forward; its backward costs twice
 * that (gradient for the weights and for the input), the usual 3x rule for a training step.
 * Bias, relu and loss are ignored (a few percent at these sizes).
 */
import { BACKEND_PREFERENCE, loadBackend, type BackendName } from '../../src/tf/backends.ts';
import { tf } from '../../src/tf/tf.ts';

const LAYER_SIZES = [784, 512, 256] as const;

interface Figures {
  backend: BackendName;
  forwardGflops: number;
  trainGflops: number;
  msPerStep: number;
}

function parseArgs(argv: string[]): { batch: number; seconds: number; backends: BackendName[] } {
  let batch = 256;
  let seconds = 3;
  const backends: BackendName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--batch') batch = Number(argv[++i]);
    else if (arg === '--seconds') seconds = Number(argv[++i]);
    else if ((BACKEND_PREFERENCE as readonly string[]).includes(arg)) backends.push(arg as BackendName);
    else throw new Error(`unknown argument ${arg}`);
  }
  return { batch, seconds, backends: backends.length > 0 ? backends : ['tensorflow', 'wasm', 'cpu'] };
}

function forwardFlops(batch: number): number {
  let flops = 0;
  for (let i = 0; i + 1 < LAYER_SIZES.length; i++) flops += 2 * batch * LAYER_SIZES[i] * LAYER_SIZES[i + 1];
  return flops;
}

/** Runs `step` repeatedly for about `seconds` (after two warm-up calls); returns seconds per call. */
async function timePerCall(step: () => Promise<void>, seconds: number): Promise<number> {
  await step();
  await step();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || calls < 3) {
    await step();
    calls++;
  }
  return (performance.now() - start) / 1000 / calls;
}

async function measure(backend: BackendName, batch: number, seconds: number): Promise<Figures> {
  await loadBackend(backend);
  const seed = 7;
  const weights = LAYER_SIZES.slice(1).map((out, i) => tf.variable(tf.randomNormal([LAYER_SIZES[i], out], 0, 0.05, 'float32', seed + i)));
  const biases = LAYER_SIZES.slice(1).map((out) => tf.variable(tf.zeros([out])));
  const inputs = tf.randomUniform([batch, LAYER_SIZES[0]], 0, 1, 'float32', seed);
  const targets = tf.randomUniform([batch, LAYER_SIZES[LAYER_SIZES.length - 1]], 0, 1, 'float32', seed + 1);
  const forward = (): tf.Tensor2D => {
    let h: tf.Tensor2D = inputs as tf.Tensor2D;
    weights.forEach((w, i) => {
      h = tf.relu(tf.add(tf.matMul(h, w as tf.Variable<tf.Rank.R2>), biases[i])) as tf.Tensor2D;
    });
    return h;
  };

  const forwardSeconds = await timePerCall(async () => {
    const out = tf.tidy(forward);
    await out.data();
    out.dispose();
  }, seconds);
  const trainSeconds = await timePerCall(async () => {
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(targets, forward()) as tf.Scalar);
    await Promise.all(Object.values(grads).map((g) => g.data()));
    value.dispose();
    tf.dispose(grads);
  }, seconds);

  tf.dispose([...weights, ...biases, inputs, targets]);
  const flops = forwardFlops(batch);
  return {
    backend,
    forwardGflops: flops / forwardSeconds / 1e9,
    trainGflops: (3 * flops) / trainSeconds / 1e9,
    msPerStep: trainSeconds * 1000,
  };
}

const { batch, seconds, backends } = parseArgs(process.argv.slice(2));
console.log(`dense ${LAYER_SIZES.join(' -> ')} (relu), batch ${batch}, ~${seconds}s per measurement`);
const results: Figures[] = [];
for (const backend of backends) {
  try {
    results.push(await measure(backend, batch, seconds));
    const r = results[results.length - 1];
    console.log(`${backend.padEnd(15)} forward ${r.forwardGflops.toFixed(2).padStart(8)} GFLOP/s   forward+backward ${r.trainGflops.toFixed(2).padStart(8)} GFLOP/s   ${r.msPerStep.toFixed(1)} ms/step`);
  } catch (error) {
    console.log(`${backend.padEnd(15)} unavailable: ${(error as Error).message}`);
  }
}
const fastest = results.reduce<Figures | undefined>((best, r) => (best === undefined || r.trainGflops > best.trainGflops ? r : best), undefined);
if (fastest) {
  for (const r of results) if (r !== fastest) console.log(`${fastest.backend} is ${(fastest.trainGflops / r.trainGflops).toFixed(1)}x ${r.backend} (forward+backward)`);
}
