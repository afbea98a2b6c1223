/**
 * The clustering model contract as services and third-party plugins see it: the training window
 * the index hands a trainer, and the servable model the registry publishes. Types only; the
 * trainers that produce these live in src/clustering.
 */

/** Top-k neighbours per training row, row-major (count x k), as row indices into the same set; the row itself is never listed. */
export interface NeighbourTable {
  readonly k: number;
  readonly indices: Int32Array;
  /** Optional cosine similarities aligned with `indices` (TSP weights neighbours by distance). */
  readonly similarities?: Float32Array;
}

/** One round's training window: raw embeddings (row-major count x dim) and their neighbours. */
export interface TrainingSet {
  readonly count: number;
  readonly dim: number;
  readonly embeddings: Float32Array;
  readonly neighbours: NeighbourTable;
}

export interface Assignment {
  readonly cluster: Int32Array;
  /** Probability of the chosen cluster under the serving head. */
  readonly confidence: Float32Array;
}

/** A trained, servable model. Immutable once published; the registry owns its lifetime. */
export interface ClusterModel {
  readonly trainer: string;
  readonly numClusters: number;
  readonly dim: number;
  assign(embeddings: Float32Array, count: number): Assignment;
  /** The same model with output cluster c renamed to permutation[c] (stable ids across versions). */
  withPermutation(permutation: Int32Array): ClusterModel;
  serialize(): SerializedClusterModel;
  dispose(): void;
}

/** JSON-safe form of a model; tensors travel as base64 little-endian Float32 arrays. */
export interface SerializedClusterModel {
  readonly trainer: string;
  readonly numClusters: number;
  readonly dim: number;
  readonly state: unknown;
}
