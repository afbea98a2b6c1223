import { describe, expect, it } from 'vitest';
import { alignClusters } from '../align-clusters.ts';
import { deserializeKMeansModel, KMeansModel } from './kmeans-model.ts';

// Three centres on a line in 2-D.
const centres = Float32Array.from([0, 0, 10, 0, 20, 0]);
const points = Float32Array.from([1, 0, 9, 1, 19, -1, 4.99, 0]);

describe('KMeansModel', () => {
  it('assigns each embedding to its nearest centre', () => {
    const model = new KMeansModel(3, 2, centres, 'euclidean', 4);
    expect(Array.from(model.assign(points, 4).cluster)).toEqual([0, 1, 2, 0]);
  });

  it('is confident near a centre and unsure half-way between two', () => {
    const model = new KMeansModel(3, 2, centres, 'euclidean', 4);
    const { confidence } = model.assign(points, 4);
    expect(confidence[0]).toBeGreaterThan(0.99);
    expect(confidence[3]).toBeCloseTo(0.5, 1);
    for (const c of confidence) expect(c).toBeLessThanOrEqual(1);
  });

  it('under the cosine metric ignores an embedding`s length', () => {
    const model = new KMeansModel(2, 2, Float32Array.from([1, 0, 0, 1]), 'cosine', 0.5);
    const { cluster, confidence } = model.assign(Float32Array.from([3, 1, 0.3, 0.1, 1, 5]), 3);
    expect(Array.from(cluster)).toEqual([0, 0, 1]);
    expect(confidence[0]).toBeCloseTo(confidence[1], 6);
  });

  it('renames clusters with a permutation, and alignClusters finds the permutation back', () => {
    const model = new KMeansModel(3, 2, centres, 'euclidean', 4);
    const renamed = model.withPermutation(Int32Array.from([2, 0, 1]));
    expect(Array.from(renamed.assign(points, 4).cluster)).toEqual([2, 0, 1, 2]);
    const back = renamed.withPermutation(alignClusters(model.assign(points, 4).cluster, renamed.assign(points, 4).cluster, 3));
    expect(Array.from(back.assign(points, 4).cluster)).toEqual([0, 1, 2, 0]);
    expect(() => model.withPermutation(Int32Array.from([0, 0, 1]))).toThrow(/TS_ERR_MODEL_PERMUTATION/);
  });

  it('survives serialize -> JSON -> deserialize with identical assignments', () => {
    const model = new KMeansModel(3, 2, Float32Array.from([0.1, -0.2, 10.3, 0.7, 19.9, 0.01]), 'cosine', 0.37);
    const restored = deserializeKMeansModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(restored.metric).toBe('cosine');
    expect(restored.temperature).toBe(0.37);
    expect(restored.assign(points, 4)).toEqual(model.assign(points, 4));
  });

  it('rejects corrupt serialized state and embeddings of the wrong size', () => {
    const serialized = new KMeansModel(3, 2, centres, 'euclidean', 1).serialize();
    expect(() => deserializeKMeansModel({ ...serialized, dim: 3 })).toThrow(/TS_ERR_MODEL_STATE/);
    expect(() => deserializeKMeansModel({ ...serialized, trainer: 'temi' })).toThrow(/TS_ERR_MODEL_STATE/);
    expect(() => new KMeansModel(3, 2, centres, 'euclidean', 1).assign(new Float32Array(3), 2)).toThrow(/TS_ERR_MODEL_INPUT/);
  });
});
