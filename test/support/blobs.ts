import type { TrainingSet } from '../../src/clustering/contracts.ts';
import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import { buildNeighbourTable } from '../../src/vector-index/neighbour-table.ts';

/**
 * Well-separated Gaussian blobs for trainer specs: `clusters` centres at distance ~`spread` from
 * the origin in random directions, unit-variance noise scaled by `noise`, labels in row order.
 */
export async function gaussianBlobs(
  clusters: number,
  perCluster: number,
  dim: number,
  seed: number,
  spread = 6,
  noise = 0.6,
  k = 20,
): Promise<{ data: TrainingSet; labels: Int32Array }> {
  const random = new SeededRandom(seed);
  const centres = new Float32Array(clusters * dim);
  for (let c = 0; c < clusters; c++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (centres[c * dim + d] = random.normal()) ** 2;
    for (let d = 0; d < dim; d++) centres[c * dim + d] *= spread / Math.sqrt(norm);
  }
  const count = clusters * perCluster;
  const embeddings = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(i / perCluster);
    labels[i] = c;
    for (let d = 0; d < dim; d++) embeddings[i * dim + d] = centres[c * dim + d] + noise * random.normal();
  }
  const neighbours = await buildNeighbourTable(embeddings, count, dim, k, { exact: true });
  return { data: { count, dim, embeddings, neighbours }, labels };
}
