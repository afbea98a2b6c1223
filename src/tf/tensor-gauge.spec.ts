import { describe, expect, it } from 'vitest';
import { blobs } from '../../test/support/blob-window.ts';
import { TemiTrainer } from '../clustering/temi/temi-trainer.ts';
import { WorkerTrainer } from '../clustering/worker/worker-trainer.ts';
import { PromMetrics } from '../runtime/services/prom-metrics.ts';
import { trackTensors, trackWorkerTensors } from './tensor-gauge.ts';
import { tf } from './tf.ts';

async function tensorsAlive(metrics: PromMetrics, thread = 'main'): Promise<number | undefined> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`temi_tensors_alive{thread="${thread}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('trackTensors', () => {
  it('reports live tensors only once a plugin tracks them, and the count each holder sees', async () => {
    const metrics = new PromMetrics();
    expect(await tensorsAlive(metrics)).toBeUndefined();
    const releaseEmbed = trackTensors(metrics);
    expect(await tensorsAlive(metrics)).toBe(tf.memory().numTensors);
    const weights = tf.ones([4, 4]);
    const releaseTrain = trackTensors(metrics);
    expect(await tensorsAlive(metrics)).toBe(tf.memory().numTensors);
    weights.dispose();
    releaseEmbed();
    releaseEmbed();
    expect(await tensorsAlive(metrics)).toBe(tf.memory().numTensors);
    releaseTrain();
  });

  it('adds each worker thread by its kind, summing workers of the same kind, from what they last reported', async () => {
    const metrics = new PromMetrics();
    const counts = { a: undefined as number | undefined, b: 5, t: 7 };
    const releaseA = trackWorkerTensors(metrics, 'embed', () => counts.a);
    const releaseB = trackWorkerTensors(metrics, 'embed', () => counts.b);
    const releaseT = trackWorkerTensors(metrics, 'training', () => counts.t);
    expect(await tensorsAlive(metrics, 'main')).toBe(tf.memory().numTensors);
    expect(await tensorsAlive(metrics, 'embed')).toBe(5);
    expect(await tensorsAlive(metrics, 'training')).toBe(7);
    counts.a = 3;
    counts.t = 9;
    await new Promise((r) => setTimeout(r, 1100));
    expect(await tensorsAlive(metrics, 'embed')).toBe(8);
    expect(await tensorsAlive(metrics, 'training')).toBe(9);
    for (const release of [releaseA, releaseB, releaseT]) release();
  });

  it("shows the training worker's own tensors, which the pipeline's thread cannot count", async () => {
    const settings = { clusters: 3, seed: 1, batchSize: 64, learningRate: 1e-2, options: { heads: 2, hidden: 64, bottleneck: 32, warmupEpochs: 1 } };
    const data = blobs(300, 7);
    // What the same trainer keeps alive after a round, measured on this thread's engine.
    const before = tf.memory().numTensors;
    const inThread = new TemiTrainer({ ...settings.options, clusters: 3, seed: 1, batchSize: 64, learningRate: 1e-2 });
    (await inThread.trainRound(data, { epochs: 1 })).model.dispose();
    const kept = tf.memory().numTensors - before;
    inThread.dispose();
    expect(kept).toBeGreaterThan(0);

    const metrics = new PromMetrics();
    const worker = await WorkerTrainer.start({ trainer: 'temi', settings, backend: 'cpu' });
    try {
      const releaseMain = trackTensors(metrics);
      const releaseWorker = trackWorkerTensors(metrics, 'training', () => worker.tensorsAlive);
      const mainBefore = tf.memory().numTensors;
      const result = await worker.trainRound(data, { epochs: 1 });
      const mainWithModel = tf.memory().numTensors;
      result.model.dispose();
      // The round's report comes with its answer's turn or just after; the gauge samples once a second.
      await new Promise((r) => setTimeout(r, 1100));
      console.log(`temi_tensors_alive after a round: main ${await tensorsAlive(metrics, 'main')}, training ${await tensorsAlive(metrics, 'training')} (in-thread trainer keeps ${kept})`);
      expect(await tensorsAlive(metrics, 'training')).toBe(kept);
      // The pipeline's thread holds only the model that crossed back (disposed here).
      expect(mainWithModel).toBeGreaterThan(mainBefore);
      expect(await tensorsAlive(metrics, 'main')).toBe(mainBefore);
      releaseWorker();
      releaseMain();
    } finally {
      await worker.dispose();
    }
  });
});
