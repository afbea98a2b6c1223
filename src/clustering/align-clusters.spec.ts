import { describe, expect, it } from 'vitest';
import { alignClusters } from './align-clusters.ts';
import { SeededRandom } from '../numeric/seeded-random.ts';

function rename(labels: Int32Array, permutation: Int32Array): Int32Array {
  return labels.map((c) => permutation[c]);
}

describe('alignClusters', () => {
  it('maps a retrained model whose ids are shuffled back onto the previous ids', () => {
    const random = new SeededRandom(7);
    const previous = Int32Array.from({ length: 500 }, () => random.int(10));
    const shuffle = random.permutation(10);
    const next = rename(previous, shuffle);
    const permutation = alignClusters(previous, next, 10);
    expect(Array.from(rename(next, permutation))).toEqual(Array.from(previous));
  });

  it('still maps each cluster to the id most of its samples had when models partly disagree', () => {
    const random = new SeededRandom(11);
    const previous = Int32Array.from({ length: 2000 }, () => random.int(6));
    const shuffle = random.permutation(6);
    // 30% of the sample moves to a random cluster in the new model.
    const next = previous.map((c) => (random.next() < 0.3 ? random.int(6) : shuffle[c]));
    const permutation = alignClusters(previous, next, 6);
    for (let c = 0; c < 6; c++) expect(permutation[shuffle[c]]).toBe(c);
    const renamed = rename(next, permutation);
    const agreeing = renamed.filter((c, i) => c === previous[i]).length;
    expect(agreeing / previous.length).toBeGreaterThan(0.7);
  });

  it('returns a full permutation even when the sample misses some clusters', () => {
    const permutation = alignClusters(Int32Array.from([0, 0, 1]), Int32Array.from([2, 2, 3]), 5);
    expect(permutation[2]).toBe(0);
    expect(permutation[3]).toBe(1);
    expect(Array.from(permutation).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects assignments that do not fit the model', () => {
    expect(() => alignClusters(Int32Array.from([0]), Int32Array.from([0, 1]), 2)).toThrow(/TS_ERR_ALIGN_LENGTH/);
    expect(() => alignClusters(Int32Array.from([0, 2]), Int32Array.from([0, 1]), 2)).toThrow(/TS_ERR_ALIGN_LABEL/);
  });
});
