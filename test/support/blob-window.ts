import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import type { TrainingSet } from '../../src/clustering/contracts.ts';

/** A small training window for trainer specs: 3 well-separated clusters in 16 dimensions. */
export const BLOB_DIM = 16;
export const BLOB_CLUSTERS = 3;
const DIM = BLOB_DIM;
const CLUSTERS = BLOB_CLUSTERS;
const K = 10;

/** Three Gaussian blobs (centres ~N(0, 9), unit noise) with exact cosine top-k neighbours. */
export function blobs(count: number, seed: number): TrainingSet & { labels: Int32Array } {
  const random = new SeededRandom(seed);
  const centres = Array.from({ length: CLUSTERS }, () => Array.from({ length: DIM }, () => random.normal() * 3));
  const embeddings = new Float32Array(count * DIM);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % CLUSTERS;
    for (let d = 0; d < DIM; d++) embeddings[i * DIM + d] = centres[labels[i]][d] + random.normal();
  }
  const unit = new Float32Array(count * DIM);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let d = 0; d < DIM; d++) norm += embeddings[i * DIM + d] ** 2;
    for (let d = 0; d < DIM; d++) unit[i * DIM + d] = embeddings[i * DIM + d] / Math.sqrt(norm);
  }
  const indices = new Int32Array(count * K);
  for (let i = 0; i < count; i++) {
    const others: { j: number; similarity: number }[] = [];
    for (let j = 0; j < count; j++) {
      if (j === i) continue;
      let similarity = 0;
      for (let d = 0; d < DIM; d++) similarity += unit[i * DIM + d] * unit[j * DIM + d];
      others.push({ j, similarity });
    }
    others.sort((a, b) => b.similarity - a.similarity);
    for (let n = 0; n < K; n++) indices[i * K + n] = others[n].j;
  }
  return { count, dim: DIM, embeddings, neighbours: { k: K, indices }, labels };
}
