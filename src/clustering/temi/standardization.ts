import { tf } from '../../tf/tf.ts';

/** Per-dimension mean and standard deviation of a training window (zero-variance dims keep scale 1). */
export interface Standardization {
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

export function fitStandardization(embeddings: Float32Array, count: number, dim: number): Standardization {
  const mean = new Float64Array(dim);
  const squares = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    const base = r * dim;
    for (let d = 0; d < dim; d++) mean[d] += embeddings[base + d];
  }
  for (let d = 0; d < dim; d++) mean[d] /= count;
  for (let r = 0; r < count; r++) {
    const base = r * dim;
    for (let d = 0; d < dim; d++) {
      const c = embeddings[base + d] - mean[d];
      squares[d] += c * c;
    }
  }
  const std = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    const s = Math.sqrt(squares[d] / count);
    // As scikit-learn's StandardScaler: a constant dimension is centred, not blown up.
    std[d] = s > 1e-8 ? s : 1;
  }
  return { mean: Float32Array.from(mean), std };
}

/** (x - mean) / std on the device; x unchanged when there is no standardisation. Call inside tf.tidy. */
export function standardize(x: tf.Tensor2D, s: Standardization | undefined): tf.Tensor2D {
  if (!s) return x;
  return tf.div(tf.sub(x, tf.tensor1d(s.mean)), tf.tensor1d(s.std)) as tf.Tensor2D;
}
