import { afterEach, describe, expect, it } from 'vitest';
import { barImages } from '../../../test/support/bar-images.ts';
import { WorkerTrainer } from '../worker/worker-trainer.ts';
import { MmdcModel } from './mmdc-model.ts';
import { MmdcTrainer } from './mmdc-trainer.ts';
import { loadBackend } from '../../tf/backends.ts';

const OPTIONS = { widths: [8, 16, 16, 32], rotationEvery: 2, refineFraction: 0.25 };
const SETTINGS = { clusters: 3, seed: 5, batchSize: 32, options: OPTIONS };
const data = barImages(120, 4);
const started: WorkerTrainer[] = [];

afterEach(async () => {
  for (const trainer of started.splice(0)) await trainer.dispose();
});

describe('mmdc in the trainer worker', () => {
  it('trains rounds in its own thread on native TensorFlow like the in-thread trainer, and its model crosses back', async () => {
    const inWorker = await WorkerTrainer.start({ trainer: 'mmdc', settings: SETTINGS, backend: 'tensorflow' });
    started.push(inWorker);
    await loadBackend('tensorflow');
    const inThread = new MmdcTrainer({ clusters: 3, seed: 5, batchSize: 32, ...OPTIONS });
    for (let round = 0; round < 2; round++) {
      const actual = await inWorker.trainRound(data, { epochs: 2 });
      const expected = await inThread.trainRound(data, { epochs: 2 });
      expect(actual.model).toBeInstanceOf(MmdcModel);
      expect(actual.samples).toBe(expected.samples);
      // Same draws, same kernels: the worker's loss equals this thread's up to thread scheduling of native reductions.
      expect(actual.meanLoss).toBeCloseTo(expected.meanLoss, 4);
      expect(actual.model.assign(data.embeddings, data.count).cluster).toHaveLength(data.count);
      actual.model.dispose();
      expected.model.dispose();
    }
    const snapshot = (await inWorker.snapshot()) as { format: string; progress: { rounds: number } };
    expect(snapshot.format).toBe('mmdc-trainer/1');
    expect(snapshot.progress.rounds).toBe(2);
    inThread.dispose();
  });
});
