import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { BLOB_CLUSTERS, blobs } from '../../../test/support/blob-window.ts';
import { constantModel } from '../../../test/support/constant-model.ts';
import { isTemiError } from '../../runtime/errors.ts';
import { ROUND_CHOICE_ABORTED } from '../window/choice-pause.ts';
import { chooseRoundModel, windowKMeans } from '../window/round-choice.ts';
import { ROUND_CHOICE_CLOSED, ROUND_CHOICE_LOST, WorkerRoundChooser } from './worker-round-chooser.ts';

const data = blobs(600, 6);
const options = { clusters: BLOB_CLUSTERS, seed: 0, kmeans: true, window: true, refine: false };
const useless = constantModel(BLOB_CLUSTERS, data.dim);

const started: WorkerRoundChooser[] = [];
async function chooser(): Promise<WorkerRoundChooser> {
  const made = await WorkerRoundChooser.start();
  started.push(made);
  return made;
}
afterEach(async () => {
  for (const made of started.splice(0)) await made.dispose();
});

/** Ends the chooser's thread from outside, as a crash (out of memory) would. */
async function killThreadOf(made: WorkerRoundChooser): Promise<void> {
  const client = await (made as unknown as { client: Promise<{ worker: Worker }> }).client;
  await client.worker.terminate();
}

describe('WorkerRoundChooser (the round choice in a thread of its own)', () => {
  it('chooses exactly what the choice on this thread chooses: same scores, same winner, same labels', async () => {
    const given = [
      { name: 'in service', model: useless },
      { name: 'new', model: windowKMeans(data, BLOB_CLUSTERS, 3) },
    ];
    const here = await chooseRoundModel(data, given, options);
    const there = await (await chooser()).choose(data, given, options);
    expect(there.scores).toEqual(here.scores);
    expect(there.winner.name).toBe(here.winner.name);
    expect(there.winner.model.assign(data.embeddings, data.count)).toEqual(here.winner.model.assign(data.embeddings, data.count));
    expect(there.prototypes!.assign(data.embeddings, data.count)).toEqual(here.prototypes!.assign(data.embeddings, data.count));
    expect(there.losers.map((l) => l.name)).toEqual(given.map((g) => g.name).filter((name) => name !== there.winner.name));
  });

  it('keeps the model in service on a tie, passing back the very object it was given', async () => {
    const good = windowKMeans(data, BLOB_CLUSTERS, 0);
    const kept = await (await chooser()).choose(data, [{ name: 'in service', model: good }], { ...options, window: false });
    expect(kept.winner.name).toBe('in service');
    expect(kept.winner.model).toBe(good);
  });

  it('rejects at once with a coded error when aborted, and chooses again afterwards', async () => {
    const made = await chooser();
    const controller = new AbortController();
    const choosing = made.choose(data, [{ name: 'in service', model: useless }], options, controller.signal).catch((error: unknown) => error);
    setTimeout(() => controller.abort(), 20);
    const failure = await choosing;
    expect(isTemiError(failure) && failure.code).toBe(ROUND_CHOICE_ABORTED);
    const aborted = new AbortController();
    aborted.abort();
    const early = await made.choose(data, [], options, aborted.signal).catch((error: unknown) => error);
    expect(isTemiError(early) && early.code).toBe(ROUND_CHOICE_ABORTED);
    expect((await made.choose(data, [{ name: 'in service', model: useless }], options)).winner.name).not.toBe('in service');
  });

  it('fails a choice whose thread died with TS_ERR_ROUND_CHOICE_LOST, and the next choice runs in a fresh thread', async () => {
    const made = await chooser();
    const choosing = made.choose(data, [], options).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await killThreadOf(made);
    const failure = await choosing;
    expect(isTemiError(failure) && failure.code).toBe(ROUND_CHOICE_LOST);
    expect(Object.keys((await made.choose(data, [], options)).scores)).toHaveLength(2);
  });

  it('rejects choices after dispose with TS_ERR_ROUND_CHOICE_CLOSED', async () => {
    const made = await chooser();
    await made.dispose();
    const failure = await made.choose(data, [], options).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe(ROUND_CHOICE_CLOSED);
  });
});
