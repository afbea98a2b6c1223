import { describe, expect, it } from 'vitest';
import { clusterSizeEntropy, meanConfidence, neighbourAgreement } from './health.ts';

describe('clusterSizeEntropy', () => {
  it('is 1 for perfectly even clusters and 0 for a collapse into one', () => {
    expect(clusterSizeEntropy(Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]), 4)).toBeCloseTo(1, 12);
    expect(clusterSizeEntropy(Int32Array.from([2, 2, 2, 2]), 4)).toBe(0);
  });

  it('counts unused clusters against balance', () => {
    // Two of four clusters used evenly: log 2 / log 4.
    expect(clusterSizeEntropy(Int32Array.from([0, 1, 0, 1]), 4)).toBeCloseTo(0.5, 12);
  });

  it('rejects cluster ids outside the model and empty input', () => {
    expect(() => clusterSizeEntropy(Int32Array.from([0, 4]), 4)).toThrow(/TS_ERR_METRICS_LABEL/);
    expect(() => clusterSizeEntropy(new Int32Array(0), 4)).toThrow(/TS_ERR_METRICS_EMPTY/);
  });
});

describe('meanConfidence', () => {
  it('averages the confidences', () => {
    expect(meanConfidence(Float32Array.from([0.5, 1, 0.75, 0.25]))).toBeCloseTo(0.625, 7);
  });
});

describe('neighbourAgreement', () => {
  it('is the share of (sample, neighbour) pairs in the same cluster', () => {
    const pred = Int32Array.from([0, 0, 1, 1]);
    // k = 2; row 0 -> 1 (same), 2 (other); row 1 -> 0, 3; row 2 -> 3, 0; row 3 -> 2, 1.
    const neighbours = { k: 2, indices: Int32Array.from([1, 2, 0, 3, 3, 0, 2, 1]) };
    expect(neighbourAgreement(pred, neighbours)).toBe(0.5);
  });

  it('skips empty neighbour slots marked -1', () => {
    const neighbours = { k: 2, indices: Int32Array.from([1, -1, 0, -1]) };
    expect(neighbourAgreement(Int32Array.from([3, 3]), neighbours)).toBe(1);
  });

  it('rejects a table that does not match the samples', () => {
    expect(() => neighbourAgreement(Int32Array.from([0, 1]), { k: 2, indices: Int32Array.from([1, 0]) })).toThrow(/TS_ERR_METRICS_LENGTH/);
    expect(() => neighbourAgreement(Int32Array.from([0, 1]), { k: 1, indices: Int32Array.from([1, 5]) })).toThrow(/TS_ERR_METRICS_NEIGHBOUR/);
  });
});
