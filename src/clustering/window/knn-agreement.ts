import type { NeighbourTable } from '../contracts.ts';

/**
 * The label-free score a round's candidate models are ranked by: chance-corrected kNN label
 * agreement on the window. For each row, the share of its first k mined neighbours that sit in
 * its own cluster, averaged over rows, minus the share expected if the same cluster sizes were
 * dealt out at random (sum over clusters of (size / N)^2).
 *
 * Why this one: the trainers themselves optimise "neighbours agree" (TEMI, SCAN), so it is the
 * property every candidate claims; the raw agreement alone is won by lumping everything into one
 * cluster (agreement 1), and the correction takes exactly that away (one cluster scores 0). It is
 * the modularity of the kNN graph with uniform degrees: it needs only the neighbour table the
 * round already mined and one assignment pass per candidate.
 */
export function knnAgreement(cluster: Int32Array, neighbours: NeighbourTable, k: number, numClusters: number): number {
  const count = cluster.length;
  if (count === 0) return 0;
  const width = Math.min(k, neighbours.k);
  let agreement = 0;
  for (let i = 0; i < count; i++) {
    let same = 0;
    let seen = 0;
    for (let n = 0; n < width; n++) {
      const j = neighbours.indices[i * neighbours.k + n];
      if (j < 0 || j >= count) continue;
      seen++;
      if (cluster[j] === cluster[i]) same++;
    }
    if (seen > 0) agreement += same / seen;
  }
  const sizes = new Float64Array(numClusters);
  for (let i = 0; i < count; i++) sizes[cluster[i]] += 1;
  let expected = 0;
  for (const size of sizes) expected += (size / count) ** 2;
  return agreement / count - expected;
}
