import { setImmediate as nextTurn } from 'node:timers/promises';
import { TemiError } from '../../runtime/errors.ts';

/** A round's model choice stopped by its owner (a graceful stop); the round is discarded like an aborted training round. */
export const ROUND_CHOICE_ABORTED = 'TS_ERR_ROUND_CHOICE_ABORTED';

/**
 * Called between two pieces of the choice (a few hundred milliseconds of arithmetic at most on a
 * 10k-row window): on the pipeline's thread it gives timers, heartbeats and I/O a turn; in the
 * choice's worker it lets the owner's abort notice in. Either way an abort ends the choice here.
 */
export async function choicePause(signal?: AbortSignal): Promise<void> {
  await nextTurn();
  throwIfChoiceAborted(signal);
}

export function throwIfChoiceAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new TemiError(ROUND_CHOICE_ABORTED, "the round's model choice was aborted; the model in service stays", { where: 'round choice', cause: signal.reason });
}
