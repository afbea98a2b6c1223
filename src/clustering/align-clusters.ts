/**
 * Stable cluster ids across model versions: a retrained model numbers its clusters arbitrarily,
 * so before it is published its ids are renamed to agree as much as possible with the model it
 * replaces, judged on a reference sample both have assigned.
 */
import { TemiError } from '../runtime/errors.ts';
import { solveLinearAssignment } from './hungarian.ts';

/**
 * Returns `permutation` with permutation[newCluster] = the previous model's id it should take
 * (pass it to ClusterModel.withPermutation). Co-occurrence counts of (next, previous) on the
 * sample are matched one-to-one with the Hungarian method, maximising the agreeing samples.
 */
export function alignClusters(previous: Int32Array, next: Int32Array, numClusters: number): Int32Array {
  if (!Number.isInteger(numClusters) || numClusters < 1) {
    throw new TemiError('TS_ERR_ALIGN_CLUSTERS', `numClusters must be a positive integer, got ${numClusters}`, { where: 'alignClusters' });
  }
  if (previous.length !== next.length) {
    throw new TemiError('TS_ERR_ALIGN_LENGTH', `previous and next assignments differ in length (${previous.length} vs ${next.length}); both must cover the same reference sample`, {
      where: 'alignClusters',
    });
  }
  const counts = new Float64Array(numClusters * numClusters);
  for (let i = 0; i < next.length; i++) {
    const from = next[i];
    const to = previous[i];
    if (from < 0 || from >= numClusters || to < 0 || to >= numClusters) {
      throw new TemiError('TS_ERR_ALIGN_LABEL', `sample ${i} has clusters previous=${to}, next=${from}; both must lie in [0, ${numClusters})`, { where: 'alignClusters' });
    }
    counts[from * numClusters + to] += 1;
  }
  // Square matrix, so every new cluster gets a distinct old id, including clusters the sample
  // never hit (they take whichever ids are left).
  return solveLinearAssignment(counts, numClusters, numClusters, 'maximise').rowToColumn;
}
