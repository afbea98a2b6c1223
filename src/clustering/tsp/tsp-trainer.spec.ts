import { describe, expect, it } from 'vitest';
import { tf } from '../../tf/tf.ts';
import type { TrainingSet } from '../contracts.ts';
import { clusteringAccuracy } from '../metrics/index.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { gaussianBlobs } from '../../../test/support/blobs.ts';
import { kmeansHeadInit } from './kmeans-head-init.ts';
import { gaussianNeighbourWeights } from './neighbour-weights.ts';
import { TspPairDrawer } from './tsp-pairs.ts';
import { createTspTrainer } from './tsp-trainer.ts';

// row 0 has neighbours 1..4 at cosines 0.9, 0.8, 0.5, 0.2; rows 1..4 list row 0 first
function tinyTable(withSimilarities: boolean): TrainingSet {
  const k = 4;
  const indices = Int32Array.from([1, 2, 3, 4, 0, 2, 3, 4, 0, 1, 3, 4, 0, 1, 2, 4, 0, 1, 2, 3]);
  const similarities = Float32Array.from([0.9, 0.8, 0.5, 0.2, ...new Array(16).fill(0.5)]);
  // 2-d unit vectors with exactly those cosines to row 0
  const angles = [0, Math.acos(0.9), Math.acos(0.8), Math.acos(0.5), Math.acos(0.2)];
  const embeddings = Float32Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]));
  return { count: 5, dim: 2, embeddings, neighbours: withSimilarities ? { k, indices, similarities } : { k, indices } };
}

describe('TSP neighbour weights', () => {
  it('are exp(-d^2 / (2 sigma^2)) with sigma half the distance to the 3rd neighbour', () => {
    const weights = gaussianNeighbourWeights(tinyTable(true), 4, 3);
    // d^2 = 2 - 2 cos; sigma^2 = d3^2 / 4 = (2 - 2 * 0.5) / 4 = 0.25
    const expected = [0.9, 0.8, 0.5, 0.2].map((c) => Math.exp(-(2 - 2 * c) / (2 * 0.25)));
    expected.forEach((w, n) => expect(weights[n]).toBeCloseTo(w, 5));
    expect(weights[2]).toBeCloseTo(Math.exp(-2), 5);
  });

  it('measure the same cosines from the embeddings when the table carries no similarities', () => {
    const fromTable = gaussianNeighbourWeights(tinyTable(true), 4, 3).subarray(0, 4);
    const computed = gaussianNeighbourWeights(tinyTable(false), 4, 3).subarray(0, 4);
    Array.from(fromTable).forEach((w, n) => expect(computed[n]).toBeCloseTo(w, 5));
  });

  it('pairs every anchor with one of its top-K neighbours (never itself) and that pair\'s weight', () => {
    const data = tinyTable(true);
    const weights = gaussianNeighbourWeights(data, 3, 3);
    const draw = new TspPairDrawer(data, 3, 3).draw(Int32Array.from(new Array(200).fill(0)), new SeededRandom(2));
    draw.neighbours.forEach((j, b) => {
      expect([1, 2, 3]).toContain(j);
      expect(draw.weights![b]).toBeCloseTo(weights[j - 1], 6);
    });
  });
});

describe('TSP head initialisation', () => {
  it('sets column c to C_c / (||C_c|| sqrt(D)) of the k-means centres, bias 0', async () => {
    const { data, labels } = await gaussianBlobs(3, 30, 9, 7);
    const { weights, bias } = kmeansHeadInit(data, 2, 3, { nInit: 1, maxIter: 100, seed: 0 });
    for (let column = 0; column < 6; column++) {
      let norm = 0;
      for (let d = 0; d < 9; d++) norm += weights[d * 6 + column] ** 2;
      expect(Math.sqrt(norm)).toBeCloseTo(1 / 3, 5);
    }
    expect(Array.from(bias)).toEqual(new Array(6).fill(0));
    // on separated blobs the untrained head already recovers the blobs
    const trainer = createTspTrainer({ numClusters: 3, learningRate: 1e-9, batchSize: 90, kmeansInit: 1 });
    const { model } = await trainer.trainRound(data, { epochs: 1 });
    expect(clusteringAccuracy(labels, model.assign(data.embeddings, data.count).cluster)).toBeGreaterThan(0.95);
    trainer.dispose();
  });
});

describe('TSP trainer', () => {
  it('trains to high accuracy on blobs, warm-starting round after round without leaking tensors', async () => {
    const { data, labels } = await gaussianBlobs(4, 100, 16, 11);
    const before = tf.memory().numTensors;
    const trainer = createTspTrainer({ numClusters: 4, batchSize: 64, learningRate: 0.01, kmeansInit: 1 });
    const first = await trainer.trainRound(data, { epochs: 5 });
    const second = await trainer.trainRound(data, { epochs: 5 });
    expect(first.model.trainer).toBe('tsp');
    expect(second.meanLoss).toBeLessThan(first.meanLoss);
    expect(clusteringAccuracy(labels, second.model.assign(data.embeddings, data.count).cluster)).toBeGreaterThan(0.95);
    expect(() => createTspTrainer({ sigmaRank: 0 })).toThrow(/TS_ERR_TRAINER_CONFIG.*tsp.sigmaRank/);
    expect(() => createTspTrainer({ seed: 1.5 })).toThrow(/TS_ERR_TRAINER_CONFIG.*tsp.seed/);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
