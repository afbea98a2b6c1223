import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adjustedMutualInfo, adjustedRandIndex, clusteringAccuracy, normalizedMutualInfo } from './index.ts';

// Reference values written by scripts/fixtures/make_metric_fixtures.py (scikit-learn + scipy).
interface MetricFixture {
  name: string;
  truth: number[];
  pred: number[];
  acc: number;
  nmi: number;
  ari: number;
  ami: number;
}

const fixtureDir = fileURLToPath(new URL('../../../test/fixtures/metrics/', import.meta.url));
const fixtures: MetricFixture[] = readdirSync(fixtureDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(readFileSync(fixtureDir + file, 'utf8')) as MetricFixture);

describe('label metrics agree with scikit-learn', () => {
  it('has the committed fixtures to compare with', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
  });

  describe.each(fixtures)('$name', (fixture) => {
    const truth = Int32Array.from(fixture.truth);
    const pred = Int32Array.from(fixture.pred);

    it('ACC matches the Hungarian + majority reference', () => {
      expect(Math.abs(clusteringAccuracy(truth, pred) - fixture.acc)).toBeLessThan(1e-12);
    });
    it('NMI matches normalized_mutual_info_score', () => {
      expect(Math.abs(normalizedMutualInfo(truth, pred) - fixture.nmi)).toBeLessThan(1e-9);
    });
    it('ARI matches adjusted_rand_score', () => {
      expect(Math.abs(adjustedRandIndex(truth, pred) - fixture.ari)).toBeLessThan(1e-9);
    });
    it('AMI matches adjusted_mutual_info_score', () => {
      expect(Math.abs(adjustedMutualInfo(truth, pred) - fixture.ami)).toBeLessThan(1e-9);
    });
  });
});
