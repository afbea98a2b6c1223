/**
 * A servable model that labels an embedding with the cluster of its most similar prototype
 * (cosine). The window clustering's labels come from the kNN graph, which a new record does not
 * belong to yet; a handful of prototypes per cluster (k-means inside each cluster) carries those
 * labels to new records far more faithfully than one centre per cluster. Confidence: softmax over
 * clusters of each cluster's best similarity divided by `temperature`, at the chosen cluster.
 */
import { TemiError } from '../../runtime/errors.ts';
import type { Assignment, ClusterModel, SerializedClusterModel } from '../contracts.ts';
import { decodeFloat32, encodeFloat32 } from '../float-codec.ts';
import { normaliseRows } from '../kmeans/kmeans-model.ts';
import { rowDot } from '../kmeans/nearest-centre.ts';

export interface PrototypeModelState {
  readonly temperature: number;
  /** count x dim unit rows, base64 little-endian float32. */
  readonly prototypes: string;
  readonly clusters: readonly number[];
}

export class PrototypeModel implements ClusterModel {
  readonly trainer = 'prototypes';
  private readonly prototypes: Float32Array;

  constructor(
    readonly numClusters: number,
    readonly dim: number,
    prototypes: Float32Array,
    /** Cluster of each prototype. */
    readonly clusters: Int32Array,
    readonly temperature: number,
  ) {
    if (!Number.isInteger(dim) || dim < 1 || prototypes.length !== clusters.length * dim || clusters.length === 0) {
      throw new TemiError('TS_ERR_MODEL_STATE', `prototype model needs prototypes x dim values (${clusters.length} x ${dim}), got ${prototypes.length}`, { where: 'PrototypeModel' });
    }
    if (clusters.some((c) => !Number.isInteger(c) || c < 0 || c >= numClusters)) {
      throw new TemiError('TS_ERR_MODEL_STATE', `every prototype's cluster must lie in [0, ${numClusters})`, { where: 'PrototypeModel' });
    }
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new TemiError('TS_ERR_MODEL_STATE', `temperature must be a positive finite number, got ${temperature}`, { where: 'PrototypeModel' });
    }
    this.prototypes = Float32Array.from(prototypes);
    normaliseRows(this.prototypes, clusters.length, dim);
  }

  get size(): number {
    return this.clusters.length;
  }

  /** Cosine similarity of each embedding to its most similar prototype (how well it fits any cluster). */
  bestSimilarity(embeddings: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count);
    this.scan(embeddings, count, (i, best) => (out[i] = best));
    return out;
  }

  assign(embeddings: Float32Array, count: number): Assignment {
    const cluster = new Int32Array(count);
    const confidence = new Float32Array(count);
    const perCluster = new Float64Array(this.numClusters);
    this.scan(embeddings, count, (i, _best, similarities) => {
      perCluster.fill(-Infinity);
      for (let p = 0; p < this.clusters.length; p++) if (similarities[p] > perCluster[this.clusters[p]]) perCluster[this.clusters[p]] = similarities[p];
      let top = 0;
      for (let c = 1; c < this.numClusters; c++) if (perCluster[c] > perCluster[top]) top = c;
      let partition = 0;
      for (let c = 0; c < this.numClusters; c++) if (perCluster[c] > -Infinity) partition += Math.exp((perCluster[c] - perCluster[top]) / this.temperature);
      cluster[i] = top;
      confidence[i] = 1 / partition;
    });
    return { cluster, confidence };
  }

  private scan(embeddings: Float32Array, count: number, visit: (row: number, best: number, similarities: Float64Array) => void): void {
    const { dim } = this;
    if (!Number.isInteger(count) || count < 0 || embeddings.length !== count * dim) {
      throw new TemiError('TS_ERR_MODEL_INPUT', `expected ${count} embeddings of dimension ${dim} (${count * dim} values), got ${embeddings.length} values`, { where: 'PrototypeModel.assign' });
    }
    const similarities = new Float64Array(this.clusters.length);
    for (let i = 0; i < count; i++) {
      const base = i * dim;
      const norm = Math.sqrt(rowDot(embeddings, base, embeddings, base, dim));
      const scale = norm > 0 ? 1 / norm : 0;
      let best = -Infinity;
      for (let p = 0; p < this.clusters.length; p++) {
        similarities[p] = scale * rowDot(embeddings, base, this.prototypes, p * dim, dim);
        if (similarities[p] > best) best = similarities[p];
      }
      visit(i, best, similarities);
    }
  }

  withPermutation(permutation: Int32Array): PrototypeModel {
    const k = this.numClusters;
    const seen = new Uint8Array(k);
    if (permutation.length !== k || permutation.some((c) => c < 0 || c >= k || seen[c]++ > 0)) {
      throw new TemiError('TS_ERR_MODEL_PERMUTATION', `expected a permutation of 0..${k - 1}, got [${Array.from(permutation).join(', ')}]`, { where: 'PrototypeModel.withPermutation' });
    }
    return new PrototypeModel(k, this.dim, this.prototypes, this.clusters.map((c) => permutation[c]), this.temperature);
  }

  serialize(): SerializedClusterModel {
    const state: PrototypeModelState = { temperature: this.temperature, prototypes: encodeFloat32(this.prototypes), clusters: Array.from(this.clusters) };
    return { trainer: this.trainer, numClusters: this.numClusters, dim: this.dim, state };
  }

  /** Plain arrays, nothing outside the garbage collector to release. */
  dispose(): void {}
}

export function deserializePrototypeModel(serialized: SerializedClusterModel): PrototypeModel {
  const where = 'deserializePrototypeModel';
  const state = serialized.state as Partial<PrototypeModelState> | null;
  if (serialized.trainer !== 'prototypes' || state === null || typeof state !== 'object' || !Array.isArray(state.clusters)) {
    throw new TemiError('TS_ERR_MODEL_STATE', "expected a 'prototypes' model with a clusters array", { where });
  }
  const prototypes = decodeFloat32(state.prototypes, state.clusters.length * serialized.dim, `${where}: state.prototypes`);
  return new PrototypeModel(serialized.numClusters, serialized.dim, prototypes, Int32Array.from(state.clusters), Number(state.temperature));
}
