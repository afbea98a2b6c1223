import { fitKMeans } from '../kmeans/fit-kmeans.ts';
import { normaliseRows } from '../kmeans/kmeans-model.ts';

export interface BalancedOptions {
  /** Softmax temperature on cosine similarities. */
  readonly temperature: number;
  readonly iterations: number;
  /** k-means restarts that seed the centres. */
  readonly nInit: number;
  readonly seed: number;
}

export interface BalancedResult {
  readonly labels: Int32Array;
  /** Each row's probability of its cluster under the balanced transport plan, row-normalised. */
  readonly confidence: Float32Array;
  /** Spherical k-means objective of `labels`: mean of 1 - cos(row, its cluster's mean direction); lower is tighter. */
  readonly inertia: number;
}

/**
 * Spherical k-means whose assignment step is a balanced soft assignment (Sinkhorn-Knopp towards
 * equal cluster masses, as SwAV and SeLa assign), started from plain k-means centres. Plain
 * k-means on these features lets one cluster swallow two look-alike classes while another splits
 * a wide one; the equal-mass prior is the same one TEMI's and SCAN's marginal terms impose.
 */
export async function balancedKMeans(
  rows: Float32Array,
  count: number,
  dim: number,
  k: number,
  options: BalancedOptions,
  /** Awaited between Sinkhorn iterations (tens of milliseconds each on a 10k-row window). */
  pause: () => Promise<void> = async () => {},
): Promise<BalancedResult> {
  const unit = Float32Array.from(rows);
  normaliseRows(unit, count, dim);
  const centres = Float64Array.from(fitKMeans(unit, count, dim, k, { nInit: options.nInit, seed: options.seed, maxIter: 100 }).centres);
  normaliseCentres(centres, k, dim);
  const plan = new Float64Array(count * k);
  const labels = new Int32Array(count);
  for (let it = 0; it < options.iterations; it++) {
    await pause();
    sinkhorn(unit, count, dim, centres, k, options.temperature, plan);
    for (let i = 0; i < count; i++) labels[i] = argmax(plan, i * k, k);
    centres.fill(0);
    const sizes = new Int32Array(k);
    for (let i = 0; i < count; i++) {
      const c = labels[i];
      sizes[c]++;
      for (let d = 0; d < dim; d++) centres[c * dim + d] += unit[i * dim + d];
    }
    if (sizes.some((s) => s === 0)) break;
    normaliseCentres(centres, k, dim);
  }
  const confidence = new Float32Array(count);
  for (let i = 0; i < count; i++) confidence[i] = plan[i * k + labels[i]];
  return { labels, confidence, inertia: sphericalInertia(unit, count, dim, labels, k) };
}

/** Mean of 1 - cos(row, mean direction of its cluster) over unit rows. */
export function sphericalInertia(unit: Float32Array, count: number, dim: number, labels: Int32Array, k: number): number {
  const centres = new Float64Array(k * dim);
  for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) centres[labels[i] * dim + d] += unit[i * dim + d];
  normaliseCentres(centres, k, dim);
  let total = 0;
  for (let i = 0; i < count; i++) {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += unit[i * dim + d] * centres[labels[i] * dim + d];
    total += 1 - dot;
  }
  return total / Math.max(1, count);
}

/** The transport plan with equal column masses and rows summing to 1 (rows returned normalised). */
function sinkhorn(unit: Float32Array, count: number, dim: number, centres: Float64Array, k: number, temperature: number, plan: Float64Array): void {
  for (let i = 0; i < count; i++) {
    let top = -Infinity;
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += unit[i * dim + d] * centres[c * dim + d];
      plan[i * k + c] = dot / temperature;
      if (plan[i * k + c] > top) top = plan[i * k + c];
    }
    for (let c = 0; c < k; c++) plan[i * k + c] = Math.exp(plan[i * k + c] - top);
  }
  const columns = new Float64Array(k);
  for (let round = 0; round < 20; round++) {
    columns.fill(0);
    for (let i = 0; i < count; i++) for (let c = 0; c < k; c++) columns[c] += plan[i * k + c];
    for (let i = 0; i < count; i++) {
      let sum = 0;
      for (let c = 0; c < k; c++) {
        plan[i * k + c] /= columns[c] || 1;
        sum += plan[i * k + c];
      }
      for (let c = 0; c < k; c++) plan[i * k + c] /= sum || 1;
    }
  }
}

function argmax(values: Float64Array, offset: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}

function normaliseCentres(centres: Float64Array, k: number, dim: number): void {
  for (let c = 0; c < k; c++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += centres[c * dim + d] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) centres[c * dim + d] *= scale;
  }
}
