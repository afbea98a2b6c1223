/**
 * Contracts between the clustering trainers (temi, scan, tsp, kmeans), the index that mines their
 * neighbour pairs and the stages that serve their models. Implementations live in their own
 * folders and depend only on this file.
 */

export type { NeighbourTable, TrainingSet, Assignment, ClusterModel, SerializedClusterModel } from '../runtime/contracts/cluster-model.ts';
import type { TrainingSet, ClusterModel } from '../runtime/contracts/cluster-model.ts';

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
