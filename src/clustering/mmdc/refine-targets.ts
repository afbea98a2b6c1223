import { alignClusters } from '../align-clusters.ts';
import { fitKMeans } from '../kmeans/index.ts';
import { oneHotTargets, targetLabels } from './gmm-targets.ts';

/**
 * Refinement's pseudo-targets (the official stage from refine_epoch on): k-means on the network's
 * outputs over the window, its clusters renamed to agree most with the previous targets
 * (Hungarian on the co-occurrence counts), one-hot targets of the result. The equal-size
 * assumption is dropped here: k-means clusters keep their own sizes.
 */
export function refinementTargets(outputs: Float32Array, count: number, dim: number, clusters: number, previous: Float32Array, seed: number): Float32Array {
  // 3 restarts rather than scikit-learn's 10: the outputs sit near the k one-hot points, where
  // restarts agree; each restart is a full Lloyd run over the window every refinement epoch.
  const { labels } = fitKMeans(outputs, count, dim, clusters, { nInit: 3, seed });
  const permutation = alignClusters(targetLabels(previous, count, dim, clusters), labels, clusters);
  return oneHotTargets(labels.map((c) => permutation[c]), dim);
}
