import { describe, expect, it } from 'vitest';
import type { KMeansModel } from './kmeans-model.ts';
import { clusteringAccuracy } from '../metrics/index.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import type { TrainingSet } from '../contracts.ts';
import { StreamingKMeansTrainer } from './streaming-kmeans-trainer.ts';

function windowOf(embeddings: Float32Array, dim: number): TrainingSet {
  const count = embeddings.length / dim;
  return { count, dim, embeddings, neighbours: { k: 0, indices: new Int32Array(0) } };
}

function blobs(count: number, dim: number, centres: number[][], spread: number, seed: number) {
  const random = new SeededRandom(seed);
  const data = new Float32Array(count * dim);
  const truth = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    truth[i] = i % centres.length;
    for (let d = 0; d < dim; d++) data[i * dim + d] = centres[truth[i]][d] + spread * random.normal();
  }
  return { data, truth };
}

const corners = [
  [0, 0, 0],
  [20, 0, 0],
  [0, 20, 0],
  [0, 0, 20],
];

describe('StreamingKMeansTrainer', () => {
  it('learns well-separated clusters and serves them with the nearest-centre model', async () => {
    const { data, truth } = blobs(1000, 3, corners, 1, 1);
    const trainer = new StreamingKMeansTrainer({ numClusters: 4, batchSize: 100, seed: 2 });
    const epochs: number[] = [];
    const result = await trainer.trainRound(windowOf(data, 3), { epochs: 3, onEpoch: (r) => epochs.push(r.epoch) });
    expect(epochs).toEqual([1, 2, 3]);
    expect(result.samples).toBe(3000);
    expect(result.model.trainer).toBe('kmeans');
    const { cluster, confidence } = result.model.assign(data, 1000);
    expect(clusteringAccuracy(truth, cluster)).toBe(1);
    // Spread 1 in 3-D: the mean squared distance to the centre is about 3.
    expect(result.meanLoss).toBeGreaterThan(2.5);
    expect(result.meanLoss).toBeLessThan(3.5);
    expect(Math.min(...confidence)).toBeGreaterThan(0.99);
  });

  it('applies the decayed weighted-mean update (batches and points time units)', async () => {
    const centreAfter = async (timeUnit: 'batches' | 'points') => {
      const trainer = new StreamingKMeansTrainer({ numClusters: 1, decayFactor: 0.5, timeUnit, batchSize: 2 });
      await trainer.trainRound(windowOf(Float32Array.from([0, 2]), 1), { epochs: 1 }); // centre 1, weight 2
      const { model } = await trainer.trainRound(windowOf(Float32Array.from([4, 4]), 1), { epochs: 1 });
      return (model as KMeansModel).centresCopy()[0];
    };
    // batches: weight 2 * 0.5 = 1 -> (1 * 1 + 8) / (1 + 2) = 3
    expect(await centreAfter('batches')).toBeCloseTo(3, 6);
    // points: weight 2 * 0.5^2 = 0.5 -> (0.5 * 1 + 8) / (0.5 + 2) = 3.4
    expect(await centreAfter('points')).toBeCloseTo(3.4, 6);
  });

  it('follows a drifting stream when it forgets, and lags behind when it does not', async () => {
    const before = blobs(800, 3, corners, 1, 3).data;
    const shifted = corners.map((c) => c.map((v) => v + 6));
    const after = blobs(800, 3, shifted, 1, 4).data;
    const drift = async (decayFactor: number) => {
      const trainer = new StreamingKMeansTrainer({ numClusters: 4, decayFactor, batchSize: 100, seed: 5 });
      await trainer.trainRound(windowOf(before, 3), { epochs: 2 });
      const { model } = await trainer.trainRound(windowOf(after, 3), { epochs: 1 });
      const c = (model as KMeansModel).centresCopy();
      // Mean shift of the centres along the first axis: 6 when fully moved.
      let sum = 0;
      for (let i = 0; i < 4; i++) sum += c[i * 3];
      return sum / 4 - corners.reduce((s, p) => s + p[0], 0) / 4;
    };
    expect(await drift(0.5)).toBeGreaterThan(5.5);
    const remembering = await drift(1);
    expect(remembering).toBeGreaterThan(1);
    expect(remembering).toBeLessThan(3);
  });

  it('keeps its cluster ids from round to round (warm start)', async () => {
    const { data } = blobs(600, 3, corners, 1, 6);
    const trainer = new StreamingKMeansTrainer({ numClusters: 4, seed: 7 });
    const first = await trainer.trainRound(windowOf(data, 3), { epochs: 2 });
    const second = await trainer.trainRound(windowOf(blobs(600, 3, corners, 1, 8).data, 3), { epochs: 2 });
    expect(second.model.assign(data, 600).cluster).toEqual(first.model.assign(data, 600).cluster);
  });

  it('continues identically after snapshot -> JSON -> restore in a new trainer', async () => {
    const { data } = blobs(500, 3, corners, 2, 9);
    const original = new StreamingKMeansTrainer({ numClusters: 4, seed: 11, decayFactor: 0.9 });
    await original.trainRound(windowOf(data, 3), { epochs: 1 });
    const copy = new StreamingKMeansTrainer({ numClusters: 4, seed: 11, decayFactor: 0.9 });
    copy.restore(JSON.parse(JSON.stringify(original.snapshot())));
    const next = blobs(500, 3, corners, 2, 10).data;
    const a = await original.trainRound(windowOf(next, 3), { epochs: 2 });
    const b = await copy.trainRound(windowOf(next, 3), { epochs: 2 });
    expect((b.model as KMeansModel).centresCopy()).toEqual((a.model as KMeansModel).centresCopy());
    expect(b.meanLoss).toBe(a.meanLoss);
  });

  it('leaves its state untouched when a round fails or is aborted', async () => {
    const { data } = blobs(400, 3, corners, 1, 12);
    const trainer = new StreamingKMeansTrainer({ numClusters: 4 });
    await trainer.trainRound(windowOf(data, 3), { epochs: 1 });
    const before = JSON.stringify(trainer.snapshot());
    const poisoned = Float32Array.from(data);
    poisoned[5] = NaN;
    await expect(trainer.trainRound(windowOf(poisoned, 3), { epochs: 1 })).rejects.toThrow(/TS_ERR_TRAIN_NON_FINITE/);
    const controller = new AbortController();
    controller.abort();
    await expect(trainer.trainRound(windowOf(data, 3), { epochs: 1, signal: controller.signal })).rejects.toThrow(/TS_ERR_TRAIN_ABORTED/);
    await expect(trainer.trainRound(windowOf(new Float32Array(8), 2), { epochs: 1 })).rejects.toThrow(/TS_ERR_KMEANS_DIM/);
    expect(JSON.stringify(trainer.snapshot())).toBe(before);
  });

  it('serves cosine models trained on unit-length rows', async () => {
    const { data, truth } = blobs(400, 3, corners.slice(1), 1, 13);
    // Scale every row by a random factor: cosine clustering must not care.
    const random = new SeededRandom(14);
    for (let i = 0; i < 400; i++) {
      const s = 0.1 + 10 * random.next();
      for (let d = 0; d < 3; d++) data[i * 3 + d] *= s;
    }
    const trainer = new StreamingKMeansTrainer({ numClusters: 3, metric: 'cosine', seed: 15 });
    const { model } = await trainer.trainRound(windowOf(data, 3), { epochs: 3 });
    expect(clusteringAccuracy(truth, model.assign(data, 400).cluster)).toBe(1);
  });

  it('rejects bad options and a first window smaller than k', async () => {
    expect(() => new StreamingKMeansTrainer({ numClusters: 3, decayFactor: 1.5 })).toThrow(/TS_ERR_KMEANS_OPTION/);
    expect(() => new StreamingKMeansTrainer({ numClusters: 0 })).toThrow(/TS_ERR_KMEANS_OPTION/);
    expect(() => new StreamingKMeansTrainer({ numClusters: 3, seed: 1.5 })).toThrow(/TS_ERR_KMEANS_OPTION.*seed/);
    // A misspelt knob must not be ignored silently.
    expect(() => new StreamingKMeansTrainer({ numClusters: 3, decay: 0.5 } as never)).toThrow(/decay: unknown option/);
    const trainer = new StreamingKMeansTrainer({ numClusters: 5 });
    await expect(trainer.trainRound(windowOf(new Float32Array(6), 2), { epochs: 1 })).rejects.toThrow(/TS_ERR_KMEANS_CLUSTERS/);
    expect(() => trainer.restore({ format: 'other' })).toThrow(/TS_ERR_TRAINER_STATE/);
  });
});
