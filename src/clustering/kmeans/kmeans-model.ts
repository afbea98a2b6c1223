/**
 * A servable k-means model: assigns each embedding to its nearest centre. Confidence is the
 * softmax over negative squared distances divided by a temperature, evaluated at the chosen
 * centre. Squared distances depend on the embedding's scale, so the trainer's default
 * temperature is the mean squared distance of its training rows to their centres: a row that
 * sits at a typical distance from its centre and one typical distance further from the next gets
 * confidence ~ e / (e + 1) ~ 0.73, whatever the units of the embedding.
 */
import { TemiError } from '../../runtime/errors.ts';
import type { Assignment, ClusterModel, SerializedClusterModel } from '../contracts.ts';
import { rowDot } from './nearest-centre.ts';
import { decodeFloat32, encodeFloat32 } from '../float-codec.ts';

/** euclidean: squared distance on the raw embeddings. cosine: the same on unit-length rows and centres (2 - 2 cos). */
export type KMeansMetric = 'euclidean' | 'cosine';

export interface KMeansModelState {
  readonly metric: KMeansMetric;
  readonly temperature: number;
  /** numClusters x dim, base64 little-endian float32. */
  readonly centres: string;
}

export class KMeansModel implements ClusterModel {
  readonly trainer = 'kmeans';
  private readonly centres: Float32Array;
  private readonly centreNorms: Float64Array;

  constructor(
    readonly numClusters: number,
    readonly dim: number,
    centres: Float32Array,
    readonly metric: KMeansMetric,
    readonly temperature: number,
  ) {
    if (!Number.isInteger(numClusters) || numClusters < 1 || !Number.isInteger(dim) || dim < 1 || centres.length !== numClusters * dim) {
      throw new TemiError('TS_ERR_MODEL_STATE', `k-means model needs numClusters x dim centres (${numClusters} x ${dim}), got ${centres.length} values`, { where: 'KMeansModel' });
    }
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new TemiError('TS_ERR_MODEL_STATE', `temperature must be a positive finite number, got ${temperature}`, { where: 'KMeansModel' });
    }
    this.centres = Float32Array.from(centres);
    if (metric === 'cosine') normaliseRows(this.centres, numClusters, dim);
    this.centreNorms = new Float64Array(numClusters);
    for (let c = 0; c < numClusters; c++) this.centreNorms[c] = rowDot(this.centres, c * dim, this.centres, c * dim, dim);
  }

  /** A copy of the centres as the model uses them (unit length under the cosine metric). */
  centresCopy(): Float32Array {
    return Float32Array.from(this.centres);
  }

  assign(embeddings: Float32Array, count: number): Assignment {
    const { dim, numClusters: k } = this;
    if (!Number.isInteger(count) || count < 0 || embeddings.length !== count * dim) {
      throw new TemiError('TS_ERR_MODEL_INPUT', `expected ${count} embeddings of dimension ${dim} (${count * dim} values), got ${embeddings.length} values`, { where: 'KMeansModel.assign' });
    }
    const cluster = new Int32Array(count);
    const confidence = new Float32Array(count);
    const distances = new Float64Array(k);
    for (let i = 0; i < count; i++) {
      const base = i * dim;
      let rowNorm = rowDot(embeddings, base, embeddings, base, dim);
      // Cosine: compare the unit-length row, i.e. scale its dot products by 1 / ||x||.
      let scale = 1;
      if (this.metric === 'cosine') {
        scale = rowNorm > 0 ? 1 / Math.sqrt(rowNorm) : 0;
        rowNorm = rowNorm > 0 ? 1 : 0;
      }
      let best = 0;
      for (let c = 0; c < k; c++) {
        const d = rowNorm - 2 * scale * rowDot(embeddings, base, this.centres, c * dim, dim) + this.centreNorms[c];
        distances[c] = d > 0 ? d : 0;
        if (distances[c] < distances[best]) best = c;
      }
      // softmax(-d / T) at the nearest centre, shifted by its distance so exp never overflows.
      let partition = 0;
      for (let c = 0; c < k; c++) partition += Math.exp(-(distances[c] - distances[best]) / this.temperature);
      cluster[i] = best;
      confidence[i] = 1 / partition;
    }
    return { cluster, confidence };
  }

  withPermutation(permutation: Int32Array): KMeansModel {
    const k = this.numClusters;
    const seen = new Uint8Array(k);
    if (permutation.length !== k || permutation.some((c) => c < 0 || c >= k || seen[c]++ > 0)) {
      throw new TemiError('TS_ERR_MODEL_PERMUTATION', `expected a permutation of 0..${k - 1}, got [${Array.from(permutation).join(', ')}]`, { where: 'KMeansModel.withPermutation' });
    }
    const renamed = new Float32Array(this.centres.length);
    for (let c = 0; c < k; c++) renamed.set(this.centres.subarray(c * this.dim, (c + 1) * this.dim), permutation[c] * this.dim);
    return new KMeansModel(k, this.dim, renamed, this.metric, this.temperature);
  }

  serialize(): SerializedClusterModel {
    const state: KMeansModelState = { metric: this.metric, temperature: this.temperature, centres: encodeFloat32(this.centres) };
    return { trainer: this.trainer, numClusters: this.numClusters, dim: this.dim, state };
  }

  /** Plain arrays, nothing outside the garbage collector to release. */
  dispose(): void {}
}

export function deserializeKMeansModel(serialized: SerializedClusterModel): KMeansModel {
  const where = 'deserializeKMeansModel';
  if (serialized.trainer !== 'kmeans') {
    throw new TemiError('TS_ERR_MODEL_STATE', `model was trained by '${serialized.trainer}', not 'kmeans'`, { where });
  }
  const state = serialized.state as Partial<KMeansModelState> | null;
  if (state === null || typeof state !== 'object') throw new TemiError('TS_ERR_MODEL_STATE', 'state must be an object', { where });
  if (state.metric !== 'euclidean' && state.metric !== 'cosine') {
    throw new TemiError('TS_ERR_MODEL_STATE', `metric must be 'euclidean' or 'cosine', got ${String(state.metric)}`, { where: `${where}: state.metric` });
  }
  const centres = decodeFloat32(state.centres, serialized.numClusters * serialized.dim, `${where}: state.centres`);
  return new KMeansModel(serialized.numClusters, serialized.dim, centres, state.metric, Number(state.temperature));
}

export function normaliseRows(rows: Float32Array, count: number, dim: number): void {
  for (let i = 0; i < count; i++) {
    const base = i * dim;
    const norm = Math.sqrt(rowDot(rows, base, rows, base, dim));
    if (norm === 0) continue;
    for (let d = 0; d < dim; d++) rows[base + d] /= norm;
  }
}
