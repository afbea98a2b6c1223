import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf/tf.ts';
import { teacherTargets, temiHeadLosses } from './temi-loss.ts';

// 2 heads, 3 clusters, 2 pairs: rows 0-1 are the anchors x, rows 2-3 their neighbours x'.
const STUDENT = [
  [[0.9, -0.2, 0.1], [0.3, 0.4, -0.5], [0.8, 0.0, -0.1], [-0.2, 0.6, 0.2]],
  [[-0.4, 0.7, 0.0], [0.5, -0.3, 0.2], [-0.1, 0.9, -0.6], [0.4, 0.1, 0.3]],
];
const TEACHER = [
  [[0.7, -0.1, 0.0], [0.2, 0.5, -0.3], [0.6, 0.1, -0.2], [-0.3, 0.4, 0.1]],
  [[-0.2, 0.5, 0.1], [0.6, -0.2, 0.0], [0.0, 0.8, -0.4], [0.3, 0.2, 0.2]],
];
const MARGINAL = [[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]];
const BETA = 0.6;
const TAU = 0.1;
const MOMENTUM = 0.9;

/** The TEMI.md recipe in plain numbers, step by step, with no tensor library involved. */
function handComputed(): { losses: number[]; marginal: number[][]; weight: number[] } {
  const logSoftmax = (row: number[]): number[] => {
    const scaled = row.map((v) => v / TAU);
    const max = Math.max(...scaled);
    const lse = max + Math.log(scaled.reduce((s, v) => s + Math.exp(v - max), 0));
    return scaled.map((v) => v - lse);
  };
  const logSumExp = (row: number[]): number => {
    const max = Math.max(...row);
    return max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  };
  const ls = STUDENT.map((head) => head.map(logSoftmax));
  const lt = TEACHER.map((head) => head.map(logSoftmax));
  const marginal = MARGINAL.map((q, h) =>
    q.map((qc, c) => MOMENTUM * qc + (1 - MOMENTUM) * (lt[h].reduce((s, row) => s + Math.exp(row[c]), 0) / 4)),
  );
  const weight = [0, 1].map((b) => {
    let agreement = 0;
    for (let h = 0; h < 2; h++) for (let c = 0; c < 3; c++) agreement += Math.exp(lt[h][b][c]) * Math.exp(lt[h][2 + b][c]);
    return agreement / 2;
  });
  const losses = [0, 1].map((h) => {
    let forward = 0;
    let backward = 0;
    for (let b = 0; b < 2; b++) {
      const a = logSumExp([0, 1, 2].map((c) => BETA * (ls[h][2 + b][c] + lt[h][b][c]) - Math.log(marginal[h][c])));
      const aPrime = logSumExp([0, 1, 2].map((c) => BETA * (ls[h][b][c] + lt[h][2 + b][c]) - Math.log(marginal[h][c])));
      forward += (-weight[b] * a) / 2;
      backward += (-weight[b] * aPrime) / 2;
    }
    return 0.5 * (forward + backward);
  });
  return { losses, marginal, weight };
}

describe('TEMI loss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches a hand computation of the marginal update, pair weights and per-head losses', () => {
    const expected = handComputed();
    const { losses, marginal, weight } = tf.tidy(() => {
      const targets = teacherTargets(tf.tensor3d(TEACHER), tf.tensor3d(MARGINAL.map((q) => [q])), TAU, MOMENTUM);
      const headLosses = temiHeadLosses(tf.tensor3d(STUDENT), targets, BETA, TAU);
      return {
        losses: Array.from(headLosses.dataSync()),
        marginal: (targets.marginal.arraySync() as number[][][]).map((q) => q[0]),
        weight: Array.from(targets.pairWeight.dataSync()),
      };
    });
    expected.losses.forEach((v, h) => expect(losses[h]).toBeCloseTo(v, 4));
    expected.weight.forEach((v, b) => expect(weight[b]).toBeCloseTo(v, 5));
    expected.marginal.forEach((q, h) => q.forEach((v, c) => expect(marginal[h][c]).toBeCloseTo(v, 6)));
    // The case is not degenerate: the heads disagree and the pairs carry different weights.
    expect(Math.abs(expected.losses[0] - expected.losses[1])).toBeGreaterThan(1e-3);
    expect(Math.abs(expected.weight[0] - expected.weight[1])).toBeGreaterThan(1e-3);
  });

  it('stays finite where the probabilities underflow to zero (log space, not (p_s p_t)^beta)', () => {
    const far = [[[10, -10, 0], [-10, 10, 0], [10, -10, 0], [-10, 10, 0]]];
    const { value, grads } = tf.tidy(() => {
      const student = tf.variable(tf.tensor3d(far));
      const targets = teacherTargets(tf.tensor3d(far.map((h) => h.map((r) => [r[1], r[0], r[2]]))), tf.tensor3d([[[1 / 3, 1 / 3, 1 / 3]]]), TAU, MOMENTUM);
      const result = tf.variableGrads(() => tf.mean(temiHeadLosses(student as unknown as tf.Tensor3D, targets, BETA, TAU)) as tf.Scalar, [student]);
      const out = { value: result.value.dataSync()[0], grads: Array.from(Object.values(result.grads)[0].dataSync()) };
      student.dispose();
      return out;
    });
    expect(Number.isFinite(value)).toBe(true);
    expect(grads.every(Number.isFinite)).toBe(true);
  });
});
