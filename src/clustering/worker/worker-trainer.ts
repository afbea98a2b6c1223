import { Worker } from 'node:worker_threads';
import { WorkerClient } from '../../runtime/workers/worker-client.ts';
import { applyNativeProcessSettings } from '../../tf/backends.ts';
import { TENSORS_EVENT } from '../../tf/tensor-gauge.ts';
import { TRAINER_LOST, type ClusterTrainer, type EpochReport, type TrainingSet, type TrainRoundOptions, type TrainRoundResult } from '../contracts.ts';
import { deserializeClusterModel } from '../model-codec.ts';
import { EPOCH_EVENT, type TrainedRound, type TrainerWorkerBoot, type TrainerWorkerReady } from './trainer-worker-protocol.ts';

export const TRAINER_CLOSED = 'TS_ERR_TRAINER_CLOSED';
/** An error thrown in the worker without a code of its own (e.g. from TensorFlow). */
export const TRAIN_ROUND_FAILED = 'TS_ERR_TRAIN_ROUND_FAILED';

/**
 * A ClusterTrainer whose training runs in a worker thread, with its own TensorFlow.js engine. The
 * trainer's state (heads, optimiser, marginals) lives in the worker; this side sends each round's
 * window (copied, so the caller keeps it) and rebuilds the trained model from its serialized form.
 * Rounds, snapshots and restores behave as the in-thread trainer's do, including rollback on a
 * failed or aborted round.
 */
export class WorkerTrainer implements ClusterTrainer {
  readonly name: string;
  private rounds = 0;
  private epochListener: ((report: EpochReport) => void) | undefined;
  private reportedTensors: number | undefined;

  private constructor(
    boot: TrainerWorkerBoot,
    private readonly client: WorkerClient,
  ) {
    this.name = boot.trainer;
  }

  /**
   * Starts the worker and waits until its backend and trainer are ready; `log` gets the worker's
   * start-up lines (the backend it chose and why). A bad trainer option fails here, coded.
   */
  static async start(boot: TrainerWorkerBoot, log: (line: string) => void = () => {}): Promise<WorkerTrainer> {
    applyNativeProcessSettings();
    const client = new WorkerClient(new Worker(new URL('./trainer-worker.boot.mjs', import.meta.url), { workerData: boot }), {
      name: 'trainer worker',
      failureCode: TRAINER_LOST,
      uncodedErrorCode: TRAIN_ROUND_FAILED,
      closedCode: TRAINER_CLOSED,
      onEvent: (event) => {
        // Events arrive by message, so never before `trainer` below is assigned.
        if (event.event === EPOCH_EVENT) trainer.epochListener?.(event.payload as EpochReport);
        else if (event.event === TENSORS_EVENT) trainer.reportedTensors = event.payload as number;
      },
    });
    const trainer = new WorkerTrainer(boot, client);
    try {
      const ready = (await client.started) as TrainerWorkerReady;
      for (const line of ready.log) log(line);
    } catch (error) {
      await client.close();
      throw error;
    }
    return trainer;
  }

  async trainRound(data: TrainingSet, options: TrainRoundOptions): Promise<TrainRoundResult> {
    const round = ++this.rounds;
    const abort = (): void => this.client.notify({ op: 'abort', round });
    this.epochListener = options.onEpoch;
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      // Only the fields a trainer reads: a keyed window's ids stay here.
      const window: TrainingSet = { count: data.count, dim: data.dim, embeddings: data.embeddings, neighbours: data.neighbours };
      const answer = this.client.call({ op: 'trainRound', round, data: window, epochs: options.epochs, minSteps: options.minSteps });
      if (options.signal?.aborted) abort();
      const trained = (await answer) as TrainedRound;
      return { ...trained, model: deserializeClusterModel(trained.model, 'trainer worker') };
    } finally {
      options.signal?.removeEventListener('abort', abort);
      this.epochListener = undefined;
    }
  }

  snapshot(): Promise<unknown> {
    return this.client.call({ op: 'snapshot' });
  }

  async restore(state: unknown): Promise<void> {
    await this.client.call({ op: 'restore', state });
  }

  /** The worker engine's live tensors, as it last reported them (when they change: once a second, at each epoch and round's end); undefined before its first report. */
  get tensorsAlive(): number | undefined {
    return this.reportedTensors;
  }

  /** Stops the worker; a round still running is abandoned and its call rejects. */
  dispose(): Promise<void> {
    return this.client.close();
  }
}
