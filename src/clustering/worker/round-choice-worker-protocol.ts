import type { SerializedClusterModel, TrainingSet } from '../contracts.ts';
import type { RoundChoiceOptions } from '../window/round-choice.ts';

/** Messages between WorkerRoundChooser (the pipeline's thread) and round-choice-worker.ts. */

export interface ChooseRequest {
  readonly id: number;
  readonly op: 'choose';
  /** Numbers the choice so an abort notice can name it, even one sent before the choice began. */
  readonly choice: number;
  readonly data: TrainingSet;
  /**
   * The caller's candidates as their labels on the window: their models may hold tensors of the
   * pipeline's TensorFlow.js engine, which this thread does not load.
   */
  readonly given: readonly { readonly name: string; readonly labels: Int32Array }[];
  readonly options: RoundChoiceOptions;
}

export interface AbortChoiceNotice {
  readonly op: 'abort';
  readonly choice: number;
}

export interface ChosenRound {
  /** Index into given + built, in that order. */
  readonly best: number;
  /** One score per candidate, given first. */
  readonly scores: readonly number[];
  /** Names of the candidates the worker built (k-means, the window clustering). */
  readonly built: readonly string[];
  /** The winner's model when the worker built it. */
  readonly winner?: SerializedClusterModel;
  /** The window clustering's prototypes, when it ran. */
  readonly prototypes?: SerializedClusterModel;
}
