import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { solveLinearAssignment } from '../hungarian.ts';

/**
 * Fixed targets on the unit sphere of R^d: `count` points from an equal-weight mixture of k
 * Gaussians around the one-hot means e_0..e_{k-1}, renormalised. Components get exactly equal
 * counts (count mod k spread over the first ones) in a random order, the paper's equal-size
 * assumption; the official code samples the component per point, which is only equal on average.
 * sigma 0 gives the exact one-hot targets of the official default.
 */
export function drawGmmTargets(count: number, clusters: number, dim: number, sigma: number, random: SeededRandom): Float32Array {
  const order = random.permutation(count);
  const targets = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const row = order[i] * dim;
    targets[row + (i % clusters)] = 1;
    if (sigma > 0) {
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        targets[row + j] += sigma * random.normal();
        norm += targets[row + j] ** 2;
      }
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < dim; j++) targets[row + j] /= norm;
    }
  }
  return targets;
}

/** One-hot targets of the given labels (refinement's pseudo-targets). */
export function oneHotTargets(labels: Int32Array, dim: number): Float32Array {
  const targets = new Float32Array(labels.length * dim);
  for (let i = 0; i < labels.length; i++) targets[i * dim + labels[i]] = 1;
  return targets;
}

/**
 * The batch's own targets, permuted among its samples to the assignment that minimises the summed
 * Euclidean distance to the network's outputs (the official per-batch step; written back, so
 * targets follow their samples from batch to batch). `outputs` and `targets` are batch-major rows
 * of `dim`; `rows` are the samples' indices into `targets`.
 */
export function matchBatchTargets(outputs: Float32Array, targets: Float32Array, rows: ArrayLike<number>, dim: number): void {
  const n = rows.length;
  const batch = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) batch.set(targets.subarray(rows[k] * dim, (rows[k] + 1) * dim), k * dim);
  const cost = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let sum = 0;
      for (let j = 0; j < dim; j++) sum += (outputs[a * dim + j] - batch[b * dim + j]) ** 2;
      cost[a * n + b] = Math.sqrt(sum);
    }
  }
  const { rowToColumn } = solveLinearAssignment(cost, n, n, 'minimise');
  for (let a = 0; a < n; a++) targets.set(batch.subarray(rowToColumn[a] * dim, (rowToColumn[a] + 1) * dim), rows[a] * dim);
}

/** The index of each row's largest target entry among the first `clusters` (its component). */
export function targetLabels(targets: Float32Array, count: number, dim: number, clusters: number): Int32Array {
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let j = 1; j < clusters; j++) if (targets[i * dim + j] > targets[i * dim + best]) best = j;
    labels[i] = best;
  }
  return labels;
}
