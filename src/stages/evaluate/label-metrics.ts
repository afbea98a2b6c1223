import { adjustedMutualInfo, adjustedRandIndex, clusteringAccuracy, normalizedMutualInfo } from '../../clustering/metrics/index.ts';

export interface LabelMetrics {
  readonly n: number;
  readonly acc: number;
  readonly nmi: number;
  readonly ari: number;
  readonly ami: number;
  /** Distinct predicted clusters. */
  readonly clustersUsed: number;
}

/** ACC/NMI/ARI/AMI of predictions against ground truth; undefined when there is nothing to score. */
export function labelMetrics(truth: ArrayLike<number>, pred: ArrayLike<number>): LabelMetrics | undefined {
  if (truth.length === 0) return undefined;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    n: truth.length,
    acc: round(clusteringAccuracy(truth, pred)),
    nmi: round(normalizedMutualInfo(truth, pred)),
    ari: round(adjustedRandIndex(truth, pred)),
    ami: round(adjustedMutualInfo(truth, pred)),
    clustersUsed: new Set(Array.from(pred)).size,
  };
}
