/**
 * Clustering accuracy (ACC): the best one-to-one mapping from predicted clusters to classes,
 * found with the Hungarian method on the count matrix M[pred, true]. When there are more clusters
 * than classes, the clusters left unmatched map to their majority class, so over-clustering is
 * scored by where its extra clusters' samples actually fall rather than counted as all wrong.
 */
import { solveLinearAssignment } from '../hungarian.ts';
import { ContingencyTable } from './contingency.ts';

export function clusteringAccuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const table = ContingencyTable.fromLabels(pred, truth, 'clusteringAccuracy');
  const matching = solveLinearAssignment(table.counts, table.rows, table.cols, 'maximise');
  let correct = matching.total;
  for (let cluster = 0; cluster < table.rows; cluster++) {
    if (matching.rowToColumn[cluster] >= 0) continue;
    let majority = 0;
    for (let c = 0; c < table.cols; c++) majority = Math.max(majority, table.at(cluster, c));
    correct += majority;
  }
  return correct / table.total;
}
