import { Worker } from 'node:worker_threads';
import { TemiError } from '../../runtime/errors.ts';
import { WorkerClient } from '../../runtime/workers/worker-client.ts';
import type { TrainingSet } from '../contracts.ts';
import { deserializeClusterModel } from '../model-codec.ts';
import { choicePause, throwIfChoiceAborted } from '../window/choice-pause.ts';
import { deserializePrototypeModel } from '../window/prototype-model.ts';
import type { RoundCandidate, RoundChoice, RoundChoiceOptions } from '../window/round-choice.ts';
import type { ChooseRequest, ChosenRound } from './round-choice-worker-protocol.ts';

/** The choice's thread crashed or exited (out of memory); that round is rejected and the next choice starts a fresh thread. */
export const ROUND_CHOICE_LOST = 'TS_ERR_ROUND_CHOICE_LOST';
/** An error thrown in the choice's thread without a code of its own. */
export const ROUND_CHOICE_FAILED = 'TS_ERR_ROUND_CHOICE_FAILED';
/** A choice asked for after dispose(). */
export const ROUND_CHOICE_CLOSED = 'TS_ERR_ROUND_CHOICE_CLOSED';

/**
 * A RoundChooser whose heavy part (k-means, the window clustering, their scores) runs in a thread
 * of its own, so a round's choice does not hold up the pipeline's records, heartbeats and
 * signals for seconds. The caller's candidates are labelled here (they may be TensorFlow.js
 * models of this thread's engine) and cross as labels; the window is copied. An abort rejects at
 * once with ROUND_CHOICE_ABORTED and tells the thread, which stops at its next pause. The thread
 * keeps no state between choices, so one lost to a crash is replaced on the next choice.
 */
export class WorkerRoundChooser {
  private client: Promise<WorkerClient> | undefined;
  private choices = 0;
  private disposed = false;

  private constructor() {}

  /** Starts the thread and waits until it is ready. */
  static async start(): Promise<WorkerRoundChooser> {
    const chooser = new WorkerRoundChooser();
    await chooser.connect();
    return chooser;
  }

  async choose(data: TrainingSet, given: readonly RoundCandidate[], options: RoundChoiceOptions, signal?: AbortSignal): Promise<RoundChoice> {
    throwIfChoiceAborted(signal);
    const labelled: { name: string; labels: Int32Array }[] = [];
    for (const candidate of given) {
      labelled.push({ name: candidate.name, labels: candidate.model.assign(data.embeddings, data.count).cluster });
      await choicePause(signal);
    }
    const client = await this.connect();
    const choice = ++this.choices;
    // Only the fields the choice reads: a keyed window's ids stay here.
    const window: TrainingSet = { count: data.count, dim: data.dim, embeddings: data.embeddings, neighbours: data.neighbours };
    const request: Omit<ChooseRequest, 'id'> = { op: 'choose', choice, data: window, given: labelled, options };
    const chosen = (await untilAborted(client.call(request), signal, () => client.notify({ op: 'abort', choice }))) as ChosenRound;
    const names = [...given.map((candidate) => candidate.name), ...chosen.built];
    const winner = chosen.best < given.length ? given[chosen.best] : { name: names[chosen.best], model: deserializeClusterModel(chosen.winner!, 'round choice worker') };
    return {
      winner,
      scores: Object.fromEntries(names.map((name, i) => [name, chosen.scores[i]])),
      // Built candidates that lost stay in the thread: plain arrays, nothing here to dispose.
      losers: given.filter((_, i) => i !== chosen.best),
      prototypes: chosen.prototypes ? deserializePrototypeModel(chosen.prototypes) : undefined,
    };
  }

  /** Stops the thread; a choice still running rejects with ROUND_CHOICE_CLOSED. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const client = await this.client?.catch(() => undefined);
    await client?.close();
  }

  private async connect(): Promise<WorkerClient> {
    if (this.disposed) throw new TemiError(ROUND_CHOICE_CLOSED, 'the round choice worker was closed');
    const current = await this.client?.catch(() => undefined);
    if (current && !current.closed) return current;
    this.client = (async () => {
      const client = new WorkerClient(new Worker(new URL('./round-choice-worker.boot.mjs', import.meta.url)), {
        name: 'round choice worker',
        failureCode: ROUND_CHOICE_LOST,
        uncodedErrorCode: ROUND_CHOICE_FAILED,
        closedCode: ROUND_CHOICE_CLOSED,
      });
      try {
        await client.started;
      } catch (error) {
        await client.close();
        throw error;
      }
      return client;
    })();
    return this.client;
  }
}

/** `work`, or a rejection (ROUND_CHOICE_ABORTED) as soon as `signal` aborts (after `onAbort`); work that ends later is let go. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void = () => {}): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      try {
        throwIfChoiceAborted(signal);
      } catch (error) {
        reject(error as Error);
      }
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    if (signal.aborted) abort();
  });
}
