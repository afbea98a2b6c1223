import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, clusteringAccuracy, normalizedMutualInfo } from './index.ts';
import { logGamma } from './log-gamma.ts';

describe('clusteringAccuracy', () => {
  it('ignores how clusters are numbered', () => {
    const truth = Int32Array.from([0, 0, 1, 1, 2, 2]);
    expect(clusteringAccuracy(truth, Int32Array.from([5, 5, 9, 9, 7, 7]))).toBe(1);
  });

  it('maps extra clusters to their majority class instead of counting them wrong', () => {
    const truth = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
    // Class 0 is split over clusters 0 and 2; only two clusters can be matched one-to-one.
    const pred = Int32Array.from([0, 0, 2, 2, 1, 1, 1, 2]);
    expect(clusteringAccuracy(truth, pred)).toBe(7 / 8);
  });

  it('rejects label vectors of different lengths or non-integer labels', () => {
    expect(() => clusteringAccuracy(Int32Array.from([0, 1]), Int32Array.from([0]))).toThrow(/TS_ERR_METRICS_LENGTH/);
    expect(() => normalizedMutualInfo([0, 1], [0, 0.5])).toThrow(/TS_ERR_METRICS_LABEL/);
    expect(() => adjustedRandIndex([], [])).toThrow(/TS_ERR_METRICS_EMPTY/);
  });
});

describe('logGamma', () => {
  it('gives log factorials and half-integer values to near machine precision', () => {
    let logFactorial = 0;
    for (let k = 1; k <= 30; k++) {
      logFactorial += Math.log(k);
      expect(Math.abs(logGamma(k + 1) - logFactorial)).toBeLessThan(1e-13 * Math.max(1, logFactorial));
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    // scipy.special.gammaln(10001.0) = 82108.92783681436
    expect(Math.abs(logGamma(10001) - 82108.92783681436) / 82108.92783681436).toBeLessThan(4e-16);
  });
});
