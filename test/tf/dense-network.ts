/**
 * A small dense network with fixed, seeded weights and inputs, evaluated on whatever backend is
 * active: the same numbers on every backend are what lets a model trained on one run on another.
 */
import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import { tf } from '../../src/tf/tf.ts';

const LAYER_SIZES = [64, 96, 48, 10];
const BATCH = 32;

export interface DenseResults {
  /** Softmax outputs, batch x 10, row-major. */
  outputs: Float32Array;
  /** Gradients of a cross-entropy loss for every weight and bias, concatenated. */
  gradients: Float32Array;
}

function seededValues(random: SeededRandom, count: number, scale: number): Float32Array {
  return Float32Array.from({ length: count }, () => random.normal() * scale);
}

export async function runDenseNetwork(): Promise<DenseResults> {
  const random = new SeededRandom(20240611);
  const inputs = tf.tensor2d(Float32Array.from({ length: BATCH * LAYER_SIZES[0] }, () => random.next()), [BATCH, LAYER_SIZES[0]]);
  const labels = tf.oneHot(tf.tensor1d(Int32Array.from({ length: BATCH }, () => random.int(10)), 'int32'), 10);
  const weights = LAYER_SIZES.slice(1).map((out, i) =>
    tf.variable(tf.tensor2d(seededValues(random, LAYER_SIZES[i] * out, Math.sqrt(2 / LAYER_SIZES[i])), [LAYER_SIZES[i], out])),
  );
  const biases = LAYER_SIZES.slice(1).map((out) => tf.variable(tf.tensor1d(seededValues(random, out, 0.1))));
  const logits = (): tf.Tensor2D => {
    let h = inputs as tf.Tensor2D;
    weights.forEach((w, i) => {
      const z = tf.add(tf.matMul(h, w as tf.Variable<tf.Rank.R2>), biases[i]) as tf.Tensor2D;
      h = i === weights.length - 1 ? z : tf.relu(z);
    });
    return h;
  };
  try {
    const outputs = tf.tidy(() => tf.softmax(logits()));
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, logits()) as tf.Scalar);
    const ordered = [...weights, ...biases].map((v) => grads[v.name]);
    const flat = tf.concat(ordered.map((g) => g.reshape([-1])));
    const results = { outputs: (await outputs.data()) as Float32Array, gradients: (await flat.data()) as Float32Array };
    tf.dispose([outputs, value, flat, ...Object.values(grads)]);
    return results;
  } finally {
    tf.dispose([inputs, labels, ...weights, ...biases]);
  }
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
