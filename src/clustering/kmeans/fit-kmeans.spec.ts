import { describe, expect, it } from 'vitest';
import { clusteringAccuracy } from '../metrics/index.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { fitKMeans, meanFeatureVariance, runLloyd } from './fit-kmeans.ts';
import { kmeansPlusPlus } from './kmeans-plus-plus.ts';
import { squaredRowNorms } from './nearest-centre.ts';

/** count points around k well-separated centres in dim dimensions, with their true blob. */
function blobs(count: number, dim: number, k: number, spread: number, seed: number) {
  const random = new SeededRandom(seed);
  const centres = Float64Array.from({ length: k * dim }, () => random.normal() * 10);
  const data = new Float32Array(count * dim);
  const truth = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    truth[i] = i % k;
    for (let d = 0; d < dim; d++) data[i * dim + d] = centres[truth[i] * dim + d] + spread * random.normal();
  }
  return { data, truth };
}

/** Textbook Lloyd: full E-step, full M-step, same stopping rules; the oracle for the bounded version. */
function plainLloyd(data: Float32Array, count: number, dim: number, k: number, seeds: Float64Array, maxIter: number, tolerance: number) {
  let centres = Float64Array.from(seeds);
  let labels = new Int32Array(count).fill(-1);
  const nearest = (centresNow: Float64Array) => {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      let best = Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (data[i * dim + d] - centresNow[c * dim + d]) ** 2;
        if (s < best) {
          best = s;
          out[i] = c;
        }
      }
    }
    return out;
  };
  for (let iteration = 0; iteration < maxIter; iteration++) {
    const next = nearest(centres);
    const unchanged = next.every((c, i) => c === labels[i]);
    labels = next;
    if (unchanged) return labels;
    const sums = new Float64Array(k * dim);
    const sizes = new Float64Array(k);
    for (let i = 0; i < count; i++) {
      sizes[labels[i]]++;
      for (let d = 0; d < dim; d++) sums[labels[i] * dim + d] += data[i * dim + d];
    }
    let shift = 0;
    for (let j = 0; j < k * dim; j++) {
      const mean = sizes[Math.floor(j / dim)] > 0 ? sums[j] / sizes[Math.floor(j / dim)] : centres[j];
      shift += (mean - centres[j]) ** 2;
      sums[j] = mean;
    }
    centres = sums;
    if (shift <= tolerance) break;
  }
  return nearest(centres);
}

describe('fitKMeans', () => {
  it('recovers well-separated blobs exactly', () => {
    const { data, truth } = blobs(600, 8, 5, 0.5, 1);
    const result = fitKMeans(data, 600, 8, 5, { seed: 3 });
    expect(clusteringAccuracy(truth, result.labels)).toBe(1);
    expect(result.centres.length).toBe(5 * 8);
  });

  it('reports labels of the nearest returned centre and their summed squared distance as inertia', () => {
    const { data } = blobs(400, 6, 4, 4, 2);
    const k = 7;
    const { centres, labels, inertia } = fitKMeans(data, 400, 6, k, { seed: 5, nInit: 3 });
    let total = 0;
    for (let i = 0; i < 400; i++) {
      const distances = Array.from({ length: k }, (_, c) => {
        let s = 0;
        for (let d = 0; d < 6; d++) s += (data[i * 6 + d] - centres[c * 6 + d]) ** 2;
        return s;
      });
      const min = Math.min(...distances);
      expect(distances[labels[i]]).toBeLessThanOrEqual(min + 1e-4);
      total += distances[labels[i]];
    }
    expect(inertia).toBeCloseTo(total, 1);
  });

  it('gives exactly what plain Lloyd gives from the same seeds (the bounds only skip work)', () => {
    const { data } = blobs(800, 10, 6, 6, 3);
    const norms = squaredRowNorms(data, 800, 10);
    const tolerance = 1e-4 * meanFeatureVariance(data, 800, 10);
    for (let trial = 0; trial < 4; trial++) {
      const seeds = kmeansPlusPlus(data, 800, 10, 8, norms, new SeededRandom(trial));
      const bounded = runLloyd({ data, count: 800, dim: 10, k: 8, rowNorms: norms }, Float64Array.from(seeds), { maxIter: 300, tolerance });
      expect(Array.from(bounded.labels)).toEqual(Array.from(plainLloyd(data, 800, 10, 8, seeds, 300, tolerance)));
    }
  });

  it('is reproducible for a seed, and more restarts never end worse than the first', () => {
    const { data } = blobs(500, 5, 8, 5, 4);
    const once = fitKMeans(data, 500, 5, 8, { seed: 9, nInit: 1 });
    const again = fitKMeans(data, 500, 5, 8, { seed: 9, nInit: 1 });
    expect(Array.from(again.labels)).toEqual(Array.from(once.labels));
    expect(again.inertia).toBe(once.inertia);
    expect(fitKMeans(data, 500, 5, 8, { seed: 9, nInit: 10 }).inertia).toBeLessThanOrEqual(once.inertia);
  });

  it('handles the extremes: one cluster is the mean, one cluster per row has zero inertia', () => {
    const data = Float32Array.from([0, 0, 2, 0, 4, 3]);
    const single = fitKMeans(data, 3, 2, 1);
    expect(Array.from(single.centres)).toEqual([2, 1]);
    expect(fitKMeans(data, 3, 2, 3).inertia).toBeCloseTo(0, 9);
    // Duplicate rows: more clusters than distinct points still returns k centres and labels in range.
    const duplicates = fitKMeans(Float32Array.from([1, 1, 1, 1, 5, 5]), 6, 1, 3);
    expect(duplicates.labels.every((c) => c >= 0 && c < 3)).toBe(true);
  });

  it('rejects malformed problems with a coded error', () => {
    expect(() => fitKMeans(new Float32Array(5), 2, 3, 1)).toThrow(/TS_ERR_KMEANS_SHAPE/);
    expect(() => fitKMeans(new Float32Array(6), 2, 3, 3)).toThrow(/TS_ERR_KMEANS_CLUSTERS/);
    expect(() => fitKMeans(Float32Array.from([0, NaN]), 2, 1, 1)).toThrow(/TS_ERR_KMEANS_VALUE/);
    expect(() => fitKMeans(new Float32Array(4), 4, 1, 2, { nInit: 0 })).toThrow(/TS_ERR_KMEANS_OPTION/);
  });
});
