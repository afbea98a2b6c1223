/**
 * Label-free health signals for a served model, for streams that carry no ground truth:
 * are clusters used evenly, is the model sure of itself, and do near neighbours land together.
 */
import { TemiError } from '../../runtime/errors.ts';
import type { NeighbourTable } from '../contracts.ts';

/**
 * Entropy of the cluster-size distribution divided by log(numClusters): 1 when every cluster
 * holds the same share, 0 when one cluster holds everything (collapse). A single-cluster model
 * is trivially balanced and scores 1.
 */
export function clusterSizeEntropy(pred: ArrayLike<number>, numClusters: number): number {
  if (!Number.isInteger(numClusters) || numClusters < 1) {
    throw new TemiError('TS_ERR_METRICS_CLUSTERS', `numClusters must be a positive integer, got ${numClusters}`, { where: 'clusterSizeEntropy' });
  }
  requireSamples(pred.length, 'clusterSizeEntropy');
  const sizes = new Float64Array(numClusters);
  for (let i = 0; i < pred.length; i++) {
    const c = pred[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClusters) {
      throw new TemiError('TS_ERR_METRICS_LABEL', `cluster at index ${i} is ${c}; expected an integer in [0, ${numClusters})`, { where: 'clusterSizeEntropy' });
    }
    sizes[c] += 1;
  }
  if (numClusters === 1) return 1;
  let h = 0;
  for (const size of sizes) {
    if (size === 0) continue;
    const p = size / pred.length;
    h -= p * Math.log(p);
  }
  return h / Math.log(numClusters);
}

/** Mean of the per-sample confidences (probability of the chosen cluster). */
export function meanConfidence(confidence: ArrayLike<number>): number {
  requireSamples(confidence.length, 'meanConfidence');
  let sum = 0;
  for (let i = 0; i < confidence.length; i++) sum += confidence[i];
  return sum / confidence.length;
}

/**
 * Fraction of (sample, listed neighbour) pairs assigned to the same cluster. Negative neighbour
 * indices mark empty slots (an index that found fewer than k neighbours) and are skipped.
 */
export function neighbourAgreement(pred: ArrayLike<number>, neighbours: NeighbourTable): number {
  requireSamples(pred.length, 'neighbourAgreement');
  const { k, indices } = neighbours;
  if (indices.length !== pred.length * k) {
    throw new TemiError('TS_ERR_METRICS_LENGTH', `the neighbour table holds ${indices.length} indices; expected ${pred.length} samples x k=${k}`, {
      where: 'neighbourAgreement',
    });
  }
  let pairs = 0;
  let agreeing = 0;
  for (let i = 0; i < pred.length; i++) {
    for (let slot = 0; slot < k; slot++) {
      const j = indices[i * k + slot];
      if (j < 0) continue;
      if (j >= pred.length) {
        throw new TemiError('TS_ERR_METRICS_NEIGHBOUR', `neighbour ${j} of sample ${i} is outside the ${pred.length} scored samples`, { where: 'neighbourAgreement' });
      }
      pairs++;
      if (pred[i] === pred[j]) agreeing++;
    }
  }
  if (pairs === 0) {
    throw new TemiError('TS_ERR_METRICS_EMPTY', 'the neighbour table lists no neighbours at all', { where: 'neighbourAgreement' });
  }
  return agreeing / pairs;
}

function requireSamples(count: number, where: string): void {
  if (count === 0) throw new TemiError('TS_ERR_METRICS_EMPTY', 'no samples to score; a metric over zero samples is undefined', { where });
}
