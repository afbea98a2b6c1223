import { describe, expect, it } from 'vitest';
import { tf } from '../../tf/tf.ts';
import { clusteringAccuracy } from '../metrics/index.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { gaussianBlobs } from '../../../test/support/blobs.ts';
import { ScanPairDrawer } from './scan-pairs.ts';
import { createScanTrainer } from './scan-trainer.ts';
import { throughSnapshotFiles } from '../../../test/support/snapshot-round-trip.ts';

describe('SCAN trainer', () => {
  it('separates well-separated blobs, serving its lowest-loss head', async () => {
    const { data, labels } = await gaussianBlobs(4, 100, 16, 1);
    // a larger step than the reference 1e-4 so a few epochs suffice in a unit test
    const trainer = createScanTrainer({ numClusters: 4, heads: 3, batchSize: 64, learningRate: 0.02, seed: 3 });
    const losses: number[] = [];
    const result = await trainer.trainRound(data, { epochs: 15, onEpoch: (r) => losses.push(r.meanLoss) });
    expect(result.model.trainer).toBe('scan');
    expect(result.samples).toBe(15 * 6 * 64);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    const { cluster } = result.model.assign(data.embeddings, data.count);
    expect(clusteringAccuracy(labels, cluster)).toBeGreaterThan(0.95);
    trainer.dispose();
  });

  it('draws each neighbour from the anchor itself plus its top-k, nothing else', async () => {
    const { data } = await gaussianBlobs(2, 30, 4, 2, 6, 0.6, 10);
    const sampler = new ScanPairDrawer(data.neighbours, 5);
    const random = new SeededRandom(1);
    const anchors = Int32Array.from({ length: 2000 }, (_, i) => i % data.count);
    const { neighbours } = sampler.draw(anchors, random);
    let self = 0;
    anchors.forEach((a, b) => {
      const pool = [a, ...Array.from(data.neighbours.indices.subarray(a * 10, a * 10 + 5))];
      expect(pool).toContain(neighbours[b]);
      if (neighbours[b] === a) self += 1;
    });
    expect(self / anchors.length).toBeGreaterThan(0.1); // about 1/6
    expect(self / anchors.length).toBeLessThan(0.25);
  });

  it('warm-starts from its snapshot and leaves its state untouched by an aborted round', async () => {
    const { data } = await gaussianBlobs(3, 40, 8, 4);
    const trainer = createScanTrainer({ numClusters: 3, heads: 2, batchSize: 32, learningRate: 0.01 });
    await trainer.trainRound(data, { epochs: 2 });
    const saved = await throughSnapshotFiles(trainer.snapshot());
    const controller = new AbortController();
    controller.abort();
    await expect(trainer.trainRound(data, { epochs: 1, signal: controller.signal })).rejects.toMatchObject({ code: 'TS_ERR_TRAIN_ABORTED' });
    expect(trainer.snapshot()).toEqual(saved);

    const twin = createScanTrainer({ numClusters: 3, heads: 2, batchSize: 32, learningRate: 0.01 });
    twin.restore(saved);
    const a = await trainer.trainRound(data, { epochs: 1 });
    const b = await twin.trainRound(data, { epochs: 1 });
    expect(Array.from(b.model.assign(data.embeddings, data.count).cluster)).toEqual(Array.from(a.model.assign(data.embeddings, data.count).cluster));
    expect(() => twin.restore({ format: 'linear-heads/1', trainer: 'tsp' })).toThrow(/TS_ERR_TRAINER_STATE_INVALID/);
    trainer.dispose();
    twin.dispose();
  });

  it('rejects bad options and mismatched data with coded errors', async () => {
    expect(() => createScanTrainer({ numClusters: 1 })).toThrow(/TS_ERR_TRAINER_CONFIG.*scan.numClusters/);
    expect(() => createScanTrainer({ seed: 1.5 })).toThrow(/TS_ERR_TRAINER_CONFIG.*scan.seed/);
    expect(() => createScanTrainer({ learningRate: -1 })).toThrow(/scan.learningRate/);
    const { data } = await gaussianBlobs(2, 20, 4, 5);
    const trainer = createScanTrainer({ numClusters: 2, heads: 1, batchSize: 16 });
    await trainer.trainRound(data, { epochs: 1 });
    const other = await gaussianBlobs(2, 20, 6, 5);
    await expect(trainer.trainRound(other.data, { epochs: 1 })).rejects.toMatchObject({ code: 'TS_ERR_TRAIN_DIM_CHANGED' });
    trainer.dispose();
  });

  it('leaks no tensors across rounds, snapshots and disposal', async () => {
    const { data } = await gaussianBlobs(2, 30, 4, 6);
    const before = tf.memory().numTensors;
    const trainer = createScanTrainer({ numClusters: 2, heads: 2, batchSize: 16 });
    await trainer.trainRound(data, { epochs: 1 });
    const afterFirst = tf.memory().numTensors;
    const state = trainer.snapshot();
    await trainer.trainRound(data, { epochs: 2 });
    trainer.restore(state);
    expect(tf.memory().numTensors).toBe(afterFirst);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
