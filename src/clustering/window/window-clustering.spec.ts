import { describe, expect, it } from 'vitest';
import { blobs, BLOB_CLUSTERS } from '../../../test/support/blob-window.ts';
import { constantModel } from '../../../test/support/constant-model.ts';
import { clusteringAccuracy } from '../metrics/index.ts';
import { deserializeClusterModel } from '../model-codec.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { knnAgreement } from './knn-agreement.ts';
import { chooseRoundModel, windowKMeans } from './round-choice.ts';
import { sphericalInertia } from './balanced-kmeans.ts';
import { clusterWindow, tightestCandidate } from './window-clustering.ts';
import { symmetricEigen } from '../../numeric/symmetric-eigen.ts';

describe('knnAgreement', () => {
  it('scores clusters that keep neighbours together far above random ones, and one big cluster at 0', async () => {
    const data = blobs(300, 1);
    const random = new SeededRandom(3);
    const shuffled = Int32Array.from({ length: data.count }, () => random.int(BLOB_CLUSTERS));
    expect(knnAgreement(data.labels, data.neighbours, 10, BLOB_CLUSTERS)).toBeGreaterThan(0.6);
    expect(Math.abs(knnAgreement(shuffled, data.neighbours, 10, BLOB_CLUSTERS))).toBeLessThan(0.05);
    expect(knnAgreement(new Int32Array(data.count), data.neighbours, 10, BLOB_CLUSTERS)).toBe(0);
  });
});

describe('clusterWindow', () => {
  it('recovers well-separated clusters and serves them to new rows through its prototypes', async () => {
    const data = blobs(300, 2);
    const clustering = await clusterWindow(data, { clusters: BLOB_CLUSTERS, seed: 0, dims: [3, 5], restarts: 2 });
    expect(clusteringAccuracy(data.labels, clustering.labels)).toBeGreaterThan(0.98);
    expect(clusteringAccuracy(data.labels, clustering.model.assign(data.embeddings, data.count).cluster)).toBeGreaterThan(0.98);
    expect(Object.keys(clustering.scores)).toEqual(['spectral-3', 'spectral-5']);
  });

  it('with refinement keeps the labels of clean clusters', async () => {
    const data = blobs(300, 4);
    const clustering = await clusterWindow(data, { clusters: BLOB_CLUSTERS, seed: 0, dims: [3], refine: true });
    expect(clusteringAccuracy(data.labels, clustering.labels)).toBeGreaterThan(0.98);
    expect(clustering.scores.refined).toBeGreaterThan(0.6);
  });

  it('its model survives serialization and renaming of clusters', async () => {
    const data = blobs(120, 5);
    const { model } = await clusterWindow(data, { clusters: BLOB_CLUSTERS, seed: 0, dims: [3] });
    const restored = deserializeClusterModel(JSON.parse(JSON.stringify(model.serialize())), 'spec');
    expect(Array.from(restored.assign(data.embeddings, data.count).cluster)).toEqual(Array.from(model.assign(data.embeddings, data.count).cluster));
    const renamed = model.withPermutation(Int32Array.from([2, 0, 1]));
    const before = model.assign(data.embeddings, data.count).cluster;
    expect(Array.from(renamed.assign(data.embeddings, data.count).cluster)).toEqual(Array.from(before, (c) => [2, 0, 1][c]));
  });
});

describe('tightestCandidate', () => {
  it('keeps the labelling with the tightest clusters over one that merges two groups and splits another', () => {
    // Three tight groups of unit vectors at 0, 120 and 240 degrees.
    const count = 90;
    const rows = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      const angle = (Math.floor(i / 30) * 2 * Math.PI) / 3 + 0.05 * Math.sin(i);
      rows.set([Math.cos(angle), Math.sin(angle)], i * 2);
    }
    const truth = Int32Array.from({ length: count }, (_, i) => Math.floor(i / 30));
    const merged = Int32Array.from(truth, (c, i) => (c === 2 ? (i % 2 === 0 ? 1 : 2) : 0));
    const inertia = (labels: Int32Array): number => sphericalInertia(rows, count, 2, labels, 3);
    expect(inertia(truth)).toBeLessThan(0.01);
    expect(inertia(merged)).toBeGreaterThan(0.1);
    const candidates = [merged, truth].map((labels) => ({ labels, dims: 2, inertia: inertia(labels), agreement: 0.5 }));
    expect(tightestCandidate(candidates).labels).toBe(truth);
  });

  it('compares embedding sizes by kNN agreement, whose inertias are on different scales', () => {
    const a = { dims: 3, inertia: 0.1, agreement: 0.8 };
    const b = { dims: 5, inertia: 0.3, agreement: 0.9 };
    const c = { dims: 5, inertia: 0.2, agreement: 0.7 };
    expect(tightestCandidate([a, b, c])).toBe(a);
    expect(tightestCandidate([a, b])).toBe(b);
  });
});

describe('chooseRoundModel', () => {
  it('publishes a better candidate over a useless model in service, and keeps the one in service on a tie', async () => {
    const data = blobs(300, 6);
    const useless = constantModel(BLOB_CLUSTERS, data.dim);
    const replaced = await chooseRoundModel(data, [{ name: 'in service', model: useless }], { clusters: BLOB_CLUSTERS, seed: 0, kmeans: true, window: true, refine: false });
    expect(replaced.winner.name).not.toBe('in service');
    expect(replaced.scores['in service']).toBe(0);
    expect(Object.keys(replaced.scores)).toHaveLength(3);

    const good = windowKMeans(data, BLOB_CLUSTERS, 0);
    const kept = await chooseRoundModel(data, [{ name: 'in service', model: good }], { clusters: BLOB_CLUSTERS, seed: 0, kmeans: true, window: false, refine: false });
    expect(kept.winner.name).toBe('in service');
  });
});

describe('symmetricEigen', () => {
  it('returns eigenpairs in descending order', async () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    expect(Array.from(values).map((v) => Number(v.toFixed(6)))).toEqual([5, 3, 1]);
    expect(Math.abs(vectors[1 * 3 + 0])).toBeCloseTo(Math.SQRT1_2, 6);
  });
});
