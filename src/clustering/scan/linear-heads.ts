import { tf } from '../../tf/tf.ts';

/**
 * H linear heads D -> C stored side by side as one [D, H*C] matrix and one [H*C] bias, so a
 * batch through all heads is a single matMul. Column h*C + c is cluster c of head h.
 */
export class LinearHeads {
  readonly weights: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly dim: number, readonly heads: number, readonly clusters: number, weights: Float32Array, bias: Float32Array) {
    // tf.variable keeps its initial tensor registered: tidy drops that wrapper, the data stays
    this.weights = tf.tidy(() => tf.variable(tf.tensor2d(weights, [dim, heads * clusters]), true));
    this.bias = tf.tidy(() => tf.variable(tf.tensor1d(bias), true));
  }

  /** Logits [H, B, C] of a [B, D] batch. Call inside tf.tidy. */
  logits(batch: tf.Tensor2D): tf.Tensor3D {
    const rows = batch.shape[0];
    const flat = tf.add(tf.matMul(batch, this.weights), this.bias);
    return tf.transpose(tf.reshape(flat, [rows, this.heads, this.clusters]), [1, 0, 2]) as tf.Tensor3D;
  }

  /** Head h's weights as a row-major [D, C] array and its bias. */
  head(h: number): { weights: Float32Array; bias: Float32Array } {
    const all = this.weights.dataSync();
    const allBias = this.bias.dataSync();
    const width = this.heads * this.clusters;
    const weights = new Float32Array(this.dim * this.clusters);
    for (let d = 0; d < this.dim; d++) {
      for (let c = 0; c < this.clusters; c++) weights[d * this.clusters + c] = all[d * width + h * this.clusters + c];
    }
    return { weights, bias: Float32Array.from(allBias.subarray(h * this.clusters, (h + 1) * this.clusters)) };
  }

  values(): { weights: Float32Array; bias: Float32Array } {
    return { weights: Float32Array.from(this.weights.dataSync()), bias: Float32Array.from(this.bias.dataSync()) };
  }

  load(weights: Float32Array, bias: Float32Array): void {
    tf.tidy(() => {
      this.weights.assign(tf.tensor2d(weights, [this.dim, this.heads * this.clusters]));
      this.bias.assign(tf.tensor1d(bias));
    });
  }

  dispose(): void {
    this.weights.dispose();
    this.bias.dispose();
  }
}

/** torch.nn.Linear's default initialisation: weights and bias ~ U(-1/sqrt(D), 1/sqrt(D)). */
export function uniformLinearInit(dim: number, width: number, uniform: () => number): { weights: Float32Array; bias: Float32Array } {
  const bound = 1 / Math.sqrt(dim);
  const weights = new Float32Array(dim * width);
  for (let i = 0; i < weights.length; i++) weights[i] = (2 * uniform() - 1) * bound;
  const bias = new Float32Array(width);
  for (let i = 0; i < width; i++) bias[i] = (2 * uniform() - 1) * bound;
  return { weights, bias };
}
