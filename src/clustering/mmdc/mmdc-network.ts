import { tf } from '../../tf/tf.ts';
import { plainViews, renderBatch } from './augment.ts';
import { type BatchMoments, trunkPooled, unitFeatures } from './trunk-forward.ts';
import { type TrunkLayout, statisticSpecs } from './trunk-layout.ts';

/** Rows per forward pass when embedding, so a large request never materialises one huge activation. */
export const EMBED_CHUNK_ROWS = 512;
/** PyTorch's batch-norm momentum: running = 0.9 running + 0.1 batch. */
const BN_MOMENTUM = 0.1;

export type HostTensors = Record<string, Float32Array>;

/** The trainer's network as tf variables: parameters (trainable) and batch-norm running statistics. */
export class MmdcNetwork {
  readonly params: Record<string, tf.Variable>;
  readonly stats: Record<string, tf.Variable>;

  constructor(readonly layout: TrunkLayout, params: HostTensors, stats?: HostTensors) {
    // Inside tidy: a variable keeps its own reference to the data, the initial tensor is freed.
    this.params = tf.tidy(() => Object.fromEntries(layout.parameters.map((p) => [p.name, tf.variable(tf.tensor(params[p.name], [...p.shape]), true)])));
    this.stats = tf.tidy(() =>
      Object.fromEntries(statisticSpecs(layout).map((s) => [s.name, tf.variable(stats ? tf.tensor1d(stats[s.name]) : tf.fill([s.size], s.initial), false)])),
    );
  }

  /** Folds a training step's batch moments into the running statistics (unbiased variance, as PyTorch). */
  updateStatistics(moments: readonly BatchMoments[]): void {
    tf.tidy(() => {
      for (const m of moments) {
        const mean = this.stats[`${m.name}.mean`];
        const variance = this.stats[`${m.name}.var`];
        mean.assign(tf.add(tf.mul(mean, 1 - BN_MOMENTUM), tf.mul(m.mean, BN_MOMENTUM)));
        const unbiased = tf.mul(m.variance, m.count / Math.max(1, m.count - 1));
        variance.assign(tf.add(tf.mul(variance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
    });
  }

  /** Unit-sphere outputs of the plain view of every row, eval mode (running statistics). */
  embed(images: Float32Array, count: number, inferenceCrop: number): Float32Array {
    return embedPlain(this.layout, this.params, this.stats, images, count, inferenceCrop);
  }

  /** Unit-sphere outputs of `rows` of already rendered plain views (see plainViewsOf), eval mode (the official matching's view). */
  embedRows(plainImages: Float32Array, rows: Int32Array): Float32Array {
    const [h, w, c] = this.layout.imageShape;
    const size = h * w * c;
    const batch = new Float32Array(rows.length * size);
    for (let k = 0; k < rows.length; k++) batch.set(plainImages.subarray(rows[k] * size, (rows[k] + 1) * size), k * size);
    const features = tf.tidy(() => unitFeatures(this.params, trunkPooled(this.layout, this.params, this.stats, tf.tensor4d(batch, [rows.length, h, w, c]), false)));
    const out = Float32Array.from(features.dataSync() as Float32Array);
    features.dispose();
    return out;
  }

  variables(): tf.Variable[] {
    return [...Object.values(this.params), ...Object.values(this.stats)];
  }

  exportParams(): HostTensors {
    return readAll(this.params);
  }

  exportStats(): HostTensors {
    return readAll(this.stats);
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

/**
 * The plain (inference) view of every row, rendered once: it does not change within a round, and
 * rendering it per step cost 27 ms of a ~190 ms step of 128 (docs/BENCHMARKS.md).
 */
export function plainViewsOf(images: Float32Array, count: number, shape: readonly [number, number, number], inferenceCrop: number): Float32Array {
  if (inferenceCrop === 1) return images;
  return renderBatch(images, Int32Array.from({ length: count }, (_, i) => i), shape, plainViews(count, inferenceCrop), 0);
}

/** Shared by the trainer's network and the serving model: plain view, eval-mode trunk, unit outputs. */
export function embedPlain(
  layout: TrunkLayout, params: Readonly<Record<string, tf.Tensor>>, stats: Readonly<Record<string, tf.Tensor>>, images: Float32Array, count: number, inferenceCrop: number,
): Float32Array {
  const [h, w, c] = layout.imageShape;
  const size = h * w * c;
  const out = new Float32Array(count * layout.outputDim);
  const views = plainViews(EMBED_CHUNK_ROWS, inferenceCrop);
  for (let start = 0; start < count; start += EMBED_CHUNK_ROWS) {
    const rows = Math.min(EMBED_CHUNK_ROWS, count - start);
    const indices = Int32Array.from({ length: rows }, (_, k) => start + k);
    const batch = inferenceCrop === 1 ? images.subarray(start * size, (start + rows) * size) : renderBatch(images, indices, layout.imageShape, views, 0);
    const features = tf.tidy(() => unitFeatures(params, trunkPooled(layout, params, stats, tf.tensor4d(batch, [rows, h, w, c]), false)));
    out.set(features.dataSync() as Float32Array, start * layout.outputDim);
    features.dispose();
  }
  return out;
}

function readAll(variables: Record<string, tf.Variable>): HostTensors {
  return Object.fromEntries(Object.entries(variables).map(([name, v]) => [name, Float32Array.from(v.dataSync() as Float32Array)]));
}
