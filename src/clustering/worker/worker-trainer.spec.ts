import { afterEach, describe, expect, it } from 'vitest';
import { blobs } from '../../../test/support/blob-window.ts';
import { isTemiError } from '../../runtime/errors.ts';
import type { ClusterTrainer } from '../contracts.ts';
import type { TemiConfig } from '../temi/temi-config.ts';
import { TemiTrainer } from '../temi/temi-trainer.ts';
import { killWorkerOf } from '../../../test/support/kill-worker.ts';
import { WorkerTrainer } from './worker-trainer.ts';
import { throughSnapshotFiles } from '../../../test/support/snapshot-round-trip.ts';

/** The temi spec's small settings; both threads run the cpu backend, so results must agree exactly. */
const SMALL: Partial<TemiConfig> = { heads: 2, hidden: 64, bottleneck: 32, warmupEpochs: 1 };
const SETTINGS = { clusters: 3, seed: 1, batchSize: 64, learningRate: 1e-2, options: SMALL as Record<string, unknown> };
const data = blobs(300, 7);

const started: ClusterTrainer[] = [];
async function workerTrainer(settings: typeof SETTINGS = SETTINGS): Promise<WorkerTrainer> {
  const trainer = await WorkerTrainer.start({ trainer: 'temi', settings, backend: 'cpu' });
  started.push(trainer);
  return trainer;
}

afterEach(async () => {
  for (const trainer of started.splice(0)) await trainer.dispose();
});

describe('WorkerTrainer (training in its own thread)', () => {
  it('trains exactly what the same trainer trains on this thread, round after round', async () => {
    const inThread = new TemiTrainer({ ...SMALL, clusters: 3, seed: 1, batchSize: 64, learningRate: 1e-2 });
    const inWorker = await workerTrainer();
    const epochs: number[] = [];
    for (let round = 0; round < 2; round++) {
      const expected = await inThread.trainRound(data, { epochs: 2 });
      const actual = await inWorker.trainRound(data, { epochs: 2, onEpoch: (report) => epochs.push(report.epoch) });
      expect(actual.meanLoss).toBe(expected.meanLoss);
      expect(actual.samples).toBe(expected.samples);
      expect(actual.model.assign(data.embeddings, data.count)).toEqual(expected.model.assign(data.embeddings, data.count));
      actual.model.dispose();
      expected.model.dispose();
    }
    expect(epochs).toEqual([1, 2, 1, 2]);
    expect(await inWorker.snapshot()).toEqual(inThread.snapshot());
    // The caller keeps its window: it was copied to the worker, not moved.
    expect(data.embeddings.length).toBe(300 * 16);
    inThread.dispose();
  });

  it('restores a snapshot into a fresh worker that then trains like the original', async () => {
    const original = await workerTrainer();
    (await original.trainRound(data, { epochs: 1 })).model.dispose();
    const saved = await throughSnapshotFiles(await original.snapshot());
    const copy = await workerTrainer();
    await copy.restore(saved);
    const a = await original.trainRound(data, { epochs: 1 });
    const b = await copy.trainRound(data, { epochs: 1 });
    expect(b.meanLoss).toBe(a.meanLoss);
    for (const r of [a, b]) r.model.dispose();
  });

  it('stops a round on abort with a coded error, rolled back in the worker', async () => {
    const trainer = await workerTrainer();
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const before = await trainer.snapshot();
    const controller = new AbortController();
    const failure = await trainer
      .trainRound(data, { epochs: 50, onEpoch: () => controller.abort(), signal: controller.signal })
      .catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_ABORTED');
    expect(await trainer.snapshot()).toEqual(before);
  });

  it('honours an abort signalled before the round reached the worker', async () => {
    const trainer = await workerTrainer();
    const controller = new AbortController();
    controller.abort();
    const failure = await trainer.trainRound(data, { epochs: 1, signal: controller.signal }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_ABORTED');
  });

  it('passes a non-finite loss back coded, and the worker keeps its previous state', async () => {
    const trainer = await workerTrainer();
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const before = await trainer.snapshot();
    // One NaN feature in every row, so the first step sees it whatever rows it draws.
    const poisoned = { ...data, embeddings: data.embeddings.map((v, i) => (i % 16 === 5 ? Number.NaN : v)) };
    const failure = await trainer.trainRound(poisoned, { epochs: 1 }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_NON_FINITE_LOSS');
    expect(await trainer.snapshot()).toEqual(before);
  });

  it('fails to start with the trainer\'s own coded error when an option is wrong', async () => {
    const failure = await workerTrainer({ ...SETTINGS, options: { ...SETTINGS.options, beta: 5 } }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toMatch(/^TS_ERR_/);
    expect(String(failure)).toMatch(/beta/);
  });

  it('fails the running round and every later call with TS_ERR_TRAINER_LOST when its thread dies', async () => {
    const trainer = await workerTrainer();
    const round = trainer.trainRound(data, { epochs: 200, onEpoch: () => void killWorkerOf(trainer) }).catch((error: unknown) => error);
    const failure = await round;
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAINER_LOST');
    expect(String(failure)).toMatch(/trainer worker exited/);
    const later = await trainer.snapshot().catch((error: unknown) => error);
    expect(isTemiError(later) && later.code).toBe('TS_ERR_TRAINER_LOST');
  });

  it('rejects calls after dispose with TS_ERR_TRAINER_CLOSED', async () => {
    const trainer = await workerTrainer();
    await trainer.dispose();
    const failure = await trainer.trainRound(data, { epochs: 1 }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAINER_CLOSED');
  });
});
