import { describe, expect, it } from 'vitest';
import { tf } from '../../tf/tf.ts';
import { scanHeadLosses } from './scan-loss.ts';

// one head, two pairs, two clusters; logits chosen so the probabilities are round numbers:
// anchors p = (0.25, 0.75) and (0.5, 0.5); neighbours p' = (0.25, 0.75) and (0.75, 0.25)
const L3 = Math.log(3);
const anchors = [[0, L3], [0, 0]];
const neighbours = [[0, L3], [L3, 0]];
// <p, p'> = 0.25^2 + 0.75^2 = 0.625 and 0.5 * 0.75 + 0.5 * 0.25 = 0.5; batch marginal (0.375, 0.625)
const consistency = -(Math.log(0.625) + Math.log(0.5)) / 2;
const entropy = -(0.375 * Math.log(0.375) + 0.625 * Math.log(0.625));

function losses(anchorRows: number[][][], neighbourRows: number[][][], weight: number, pairWeights?: number[]) {
  return tf.tidy(() => {
    const out = scanHeadLosses(tf.tensor3d(anchorRows), tf.tensor3d(neighbourRows), weight, pairWeights ? tf.tensor1d(pairWeights) : undefined);
    return { total: Array.from(out.total.dataSync()), consistency: Array.from(out.consistency.dataSync()), entropy: Array.from(out.entropy.dataSync()) };
  });
}

describe('SCAN loss', () => {
  it('is -mean log<p, p\'> - lambda H(mean p), matching the hand-computed values', () => {
    const out = losses([anchors], [neighbours], 5);
    expect(out.consistency[0]).toBeCloseTo(consistency, 5); // 0.58158
    expect(out.entropy[0]).toBeCloseTo(entropy, 5); // 0.66156
    expect(out.total[0]).toBeCloseTo(consistency - 5 * entropy, 5); // -2.72624
  });

  it('computes every head on its own', () => {
    const swapped = anchors.map(([a, b]) => [b, a]);
    const out = losses([anchors, swapped], [neighbours, neighbours], 3);
    expect(out.total[0]).toBeCloseTo(consistency - 3 * entropy, 5);
    // head 2: anchors (0.75, 0.25), (0.5, 0.5): <p, p'> = 0.375 and 0.5; same marginal entropy
    expect(out.consistency[1]).toBeCloseTo(-(Math.log(0.375) + Math.log(0.5)) / 2, 5);
    expect(out.entropy[1]).toBeCloseTo(entropy, 5);
  });

  it('turns pair weights into a weighted mean of the consistency term (TSP)', () => {
    const out = losses([anchors], [neighbours], 3, [1, 0.25]);
    const weighted = -(1 * Math.log(0.625) + 0.25 * Math.log(0.5)) / 1.25; // 0.51463
    expect(out.consistency[0]).toBeCloseTo(weighted, 5);
    expect(out.total[0]).toBeCloseTo(weighted - 3 * entropy, 5);
  });

  it('stays finite when a confident pair disagrees completely', () => {
    const out = losses([[[60, -60]]], [[[-60, 60]]], 5);
    expect(Number.isFinite(out.total[0])).toBe(true);
    expect(out.consistency[0]).toBeGreaterThan(100);
  });

  it('leaves no tensors behind inside tf.tidy', () => {
    const before = tf.memory().numTensors;
    losses([anchors], [neighbours], 5, [1, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
