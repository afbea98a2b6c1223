import type { BackendName } from '../../tf/backends.ts';
import type { SerializedClusterModel, TrainingSet } from '../contracts.ts';
import type { TrainerName, TrainerSettings } from '../trainer-factory.ts';

/** Messages between WorkerTrainer (the pipeline's thread) and trainer-worker.ts. */

export interface TrainerWorkerBoot {
  readonly trainer: TrainerName;
  readonly settings: TrainerSettings;
  /** TensorFlow.js backend the worker loads for itself (each thread has its own engine). */
  readonly backend: 'auto' | BackendName;
}

/** The handshake's answer: what the worker loaded. */
export interface TrainerWorkerReady {
  readonly backend: BackendName;
  readonly log: readonly string[];
}

export type TrainerRequest =
  | {
      readonly id: number;
      readonly op: 'trainRound';
      /** Numbers the round so an abort notice can name it, even one sent before the round began. */
      readonly round: number;
      readonly data: TrainingSet;
      readonly epochs: number;
      readonly minSteps?: number;
    }
  | { readonly id: number; readonly op: 'snapshot' }
  | { readonly id: number; readonly op: 'restore'; readonly state: unknown };

export interface AbortRoundNotice {
  readonly op: 'abort';
  readonly round: number;
}

/** A finished round: the model crosses as its serialized form and is rebuilt on the other side. */
export interface TrainedRound {
  readonly model: SerializedClusterModel;
  readonly meanLoss: number;
  readonly epochs: number;
  readonly samples: number;
  readonly seconds: number;
}

export const EPOCH_EVENT = 'epoch';
