import { TemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import type { Assignment, ClusterModel, SerializedClusterModel } from '../contracts.ts';
import { decodeFloat32, encodeFloat32 } from '../float-codec.ts';
import { geluExact, l2Normalize } from './head-forward.ts';
import { type Standardization, standardize } from './standardization.ts';

export const TEMI_TRAINER_NAME = 'temi';
const MODEL_FORMAT = 'temi-head/1';
/** Rows per forward pass when assigning, so a large request never materialises one huge activation. */
const ASSIGN_CHUNK_ROWS = 2048;

/** One head, host-side, with the weight-normalised last layer folded into a plain [P, C] matrix. */
export interface TemiHeadWeights {
  readonly dim: number;
  readonly hidden: number;
  readonly bottleneck: number;
  readonly clusters: number;
  /** Temperature the head's probabilities are taken at (the teacher's, tau_t). */
  readonly temperature: number;
  readonly w1: Float32Array; // [D, M]
  readonly b1: Float32Array; // [M]
  readonly w2: Float32Array; // [M, P]
  readonly b2: Float32Array; // [P]
  readonly last: Float32Array; // [P, C]
  readonly standardization?: Standardization;
}

interface SerializedTemiState {
  readonly format: string;
  readonly hidden: number;
  readonly bottleneck: number;
  readonly temperature: number;
  readonly w1: string;
  readonly b1: string;
  readonly w2: string;
  readonly b2: string;
  readonly last: string;
  readonly mean?: string;
  readonly std?: string;
}

/**
 * The serving form of a TEMI run: the teacher's best head. cluster = argmax of its logits,
 * confidence = max of softmax(logits / tau_t), the teacher distribution the loss trained
 * (the raw logits are cosines times g, so a softmax at temperature 1 would be nearly flat).
 */
export class TemiModel implements ClusterModel {
  readonly trainer = TEMI_TRAINER_NAME;
  readonly numClusters: number;
  readonly dim: number;
  private readonly tensors: { w1: tf.Tensor2D; b1: tf.Tensor1D; w2: tf.Tensor2D; b2: tf.Tensor1D; last: tf.Tensor2D };
  private disposed = false;

  constructor(readonly weights: TemiHeadWeights) {
    const { dim, hidden: m, bottleneck: p, clusters: c } = weights;
    this.numClusters = c;
    this.dim = dim;
    this.tensors = {
      w1: tf.tensor2d(weights.w1, [dim, m]),
      b1: tf.tensor1d(weights.b1),
      w2: tf.tensor2d(weights.w2, [m, p]),
      b2: tf.tensor1d(weights.b2),
      last: tf.tensor2d(weights.last, [p, c]),
    };
  }

  assign(embeddings: Float32Array, count: number): Assignment {
    if (this.disposed) throw new TemiError('TS_ERR_MODEL_DISPOSED', 'this model was disposed', { where: 'temi' });
    if (!Number.isInteger(count) || count < 0 || embeddings.length < count * this.dim) {
      throw new TemiError('TS_ERR_MODEL_INPUT_INVALID', `expected ${count} x ${this.dim} floats, found ${embeddings.length}`, {
        where: 'temi.assign',
      });
    }
    const cluster = new Int32Array(count);
    const confidence = new Float32Array(count);
    for (let start = 0; start < count; start += ASSIGN_CHUNK_ROWS) {
      const rows = Math.min(ASSIGN_CHUNK_ROWS, count - start);
      const [argmax, max] = tf.tidy(() => {
        const x = tf.tensor2d(embeddings.subarray(start * this.dim, (start + rows) * this.dim), [rows, this.dim]);
        const probabilities = tf.softmax(tf.div(this.logits(x), this.weights.temperature));
        return [tf.argMax(probabilities, 1), tf.max(probabilities, 1)];
      });
      cluster.set(argmax.dataSync() as Int32Array, start);
      confidence.set(max.dataSync() as Float32Array, start);
      argmax.dispose();
      max.dispose();
    }
    return { cluster, confidence };
  }

  withPermutation(permutation: Int32Array): ClusterModel {
    const c = this.numClusters;
    const seen = new Uint8Array(c);
    if (permutation.length !== c || !permutation.every((to) => to >= 0 && to < c && seen[to]++ === 0)) {
      throw new TemiError('TS_ERR_MODEL_PERMUTATION_INVALID', `expected a permutation of 0..${c - 1}`, { where: 'temi.withPermutation' });
    }
    const p = this.weights.bottleneck;
    const last = new Float32Array(p * c);
    for (let row = 0; row < p; row++) {
      for (let from = 0; from < c; from++) last[row * c + permutation[from]] = this.weights.last[row * c + from];
    }
    return new TemiModel({ ...this.weights, last });
  }

  serialize(): SerializedClusterModel {
    const w = this.weights;
    const state: SerializedTemiState = {
      format: MODEL_FORMAT,
      hidden: w.hidden,
      bottleneck: w.bottleneck,
      temperature: w.temperature,
      w1: encodeFloat32(w.w1),
      b1: encodeFloat32(w.b1),
      w2: encodeFloat32(w.w2),
      b2: encodeFloat32(w.b2),
      last: encodeFloat32(w.last),
      ...(w.standardization ? { mean: encodeFloat32(w.standardization.mean), std: encodeFloat32(w.standardization.std) } : {}),
    };
    return { trainer: this.trainer, numClusters: this.numClusters, dim: this.dim, state };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of Object.values(this.tensors)) t.dispose();
  }

  private logits(x: tf.Tensor2D): tf.Tensor2D {
    const t = this.tensors;
    const h1 = geluExact(tf.add(tf.matMul(standardize(x, this.weights.standardization), t.w1), t.b1));
    const z = l2Normalize(tf.add(tf.matMul(h1 as tf.Tensor2D, t.w2), t.b2), 1);
    return tf.matMul(z as tf.Tensor2D, t.last);
  }
}

function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TemiError('TS_ERR_MODEL_INVALID', `expected a positive integer, found ${JSON.stringify(value)}`, { where });
  }
  return value;
}

/** Rebuilds a model from `serialize()` output (e.g. read back from the model topic). */
export function deserializeTemiModel(serialized: SerializedClusterModel): TemiModel {
  if (serialized?.trainer !== TEMI_TRAINER_NAME) {
    throw new TemiError('TS_ERR_MODEL_INVALID', `expected a '${TEMI_TRAINER_NAME}' model, found '${String(serialized?.trainer)}'`, {
      where: 'trainer',
    });
  }
  const s = serialized.state as Partial<SerializedTemiState> | null;
  if (!s || s.format !== MODEL_FORMAT) {
    throw new TemiError('TS_ERR_MODEL_INVALID', `expected state format '${MODEL_FORMAT}', found '${String(s?.format)}'`, {
      where: 'state.format',
    });
  }
  const dim = positiveInteger(serialized.dim, 'dim');
  const clusters = positiveInteger(serialized.numClusters, 'numClusters');
  const hidden = positiveInteger(s.hidden, 'state.hidden');
  const bottleneck = positiveInteger(s.bottleneck, 'state.bottleneck');
  if (typeof s.temperature !== 'number' || !(s.temperature > 0)) {
    throw new TemiError('TS_ERR_MODEL_INVALID', 'expected a positive temperature', { where: 'state.temperature' });
  }
  const standardization =
    s.mean !== undefined || s.std !== undefined
      ? { mean: decodeFloat32(s.mean, dim, 'state.mean'), std: decodeFloat32(s.std, dim, 'state.std') }
      : undefined;
  return new TemiModel({
    dim,
    hidden,
    bottleneck,
    clusters,
    temperature: s.temperature,
    w1: decodeFloat32(s.w1, dim * hidden, 'state.w1'),
    b1: decodeFloat32(s.b1, hidden, 'state.b1'),
    w2: decodeFloat32(s.w2, hidden * bottleneck, 'state.w2'),
    b2: decodeFloat32(s.b2, bottleneck, 'state.b2'),
    last: decodeFloat32(s.last, bottleneck * clusters, 'state.last'),
    standardization,
  });
}
