import { serveRequests, type Handled } from '../../runtime/workers/serve-requests.ts';
import { choicePause } from '../window/choice-pause.ts';
import { agreementOf, bestScore, windowCandidates } from '../window/round-choice.ts';
import type { AbortChoiceNotice, ChooseRequest, ChosenRound } from './round-choice-worker-protocol.ts';

/**
 * The round choice's own thread. Its window clustering is seconds of synchronous arithmetic on a
 * 10k-row window; on the pipeline's thread that held up records, Kafka heartbeats and a stop's
 * signals. Plain TypeScript, no TensorFlow.js: the caller's candidates arrive as labels. The
 * choice pauses between its pieces, which lets an abort notice in.
 */

const running = new Map<number, AbortController>();
/** Aborts that arrived before their choice started. */
const abortedEarly = new Set<number>();

async function choose(request: ChooseRequest): Promise<Handled> {
  const controller = new AbortController();
  running.set(request.choice, controller);
  if (abortedEarly.delete(request.choice)) controller.abort();
  try {
    const { data, options, given } = request;
    const { built, prototypes } = await windowCandidates(data, options, controller.signal);
    const scores = given.map((candidate) => agreementOf(candidate.labels, data, options));
    for (const candidate of built) {
      await choicePause(controller.signal);
      scores.push(agreementOf(candidate.model.assign(data.embeddings, data.count).cluster, data, options));
    }
    const best = bestScore(scores);
    const result: ChosenRound = {
      best,
      scores,
      built: built.map((candidate) => candidate.name),
      winner: best >= given.length ? built[best - given.length].model.serialize() : undefined,
      prototypes: prototypes?.serialize(),
    };
    return { result };
  } finally {
    running.delete(request.choice);
  }
}

serveRequests<ChooseRequest>(
  () => null,
  (request) => choose(request),
  (message) => {
    const notice = message as AbortChoiceNotice;
    if (notice?.op !== 'abort') return;
    const controller = running.get(notice.choice);
    if (controller) controller.abort();
    else abortedEarly.add(notice.choice);
  },
);
