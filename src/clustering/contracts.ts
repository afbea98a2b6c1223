/**
 * Contracts between the clustering trainers (temi, scan, tsp, kmeans), the index that mines their
 * neighbour pairs and the stages that serve their models. Implementations live in their own
 * folders and depend only on this file.
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

export interface EpochReport {
  readonly epoch: number;
  readonly meanLoss: number;
}

export interface TrainRoundOptions {
  readonly epochs: number;
  /**
   * Lower bound on optimiser steps: the round runs more epochs than `epochs` when needed to reach
   * it, so a small early window is trained about as long as a later, larger one.
   */
  readonly minSteps?: number;
  readonly signal?: AbortSignal;
  readonly onEpoch?: (report: EpochReport) => void;
}

export interface TrainRoundResult {
  readonly model: ClusterModel;
  /** Mean training loss over the last epoch of the served head. */
  readonly meanLoss: number;
  readonly epochs: number;
  /** Training samples processed (anchors), for throughput figures. */
  readonly samples: number;
  readonly seconds: number;
}

/**
 * A trainer that can never train again (its thread died, taking its state along) fails every
 * round with this code. The train stage then stops the pipeline instead of serving a model that
 * will not be retrained; a restart resumes from the last snapshot.
 */
export const TRAINER_LOST = 'TS_ERR_TRAINER_LOST';

/**
 * A trainer keeps its own state between rounds (heads, teacher, optimiser, marginals) so each
 * round warm-starts from the previous one. A round that fails (non-finite loss, abort) must throw
 * and leave that state as it was before the round. Snapshot, restore and dispose may be async:
 * a trainer running in a worker thread answers them by message.
 */
export interface ClusterTrainer {
  readonly name: string;
  trainRound(data: TrainingSet, options: TrainRoundOptions): Promise<TrainRoundResult>;
  snapshot(): unknown | Promise<unknown>;
  restore(state: unknown): void | Promise<void>;
  dispose(): void | Promise<void>;
}
