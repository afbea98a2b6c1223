import type { TrainingSet } from '../contracts.ts';
import { fitKMeans } from '../kmeans/fit-kmeans.ts';

/**
 * TSP's head initialisation: column c of head h is phi_c = C_c / (||C_c|| sqrt(D)), C the k-means
 * centres of the raw embeddings the head sees (head h runs k-means with seed + h, so several
 * heads start apart), bias 0. Returns weights as [D, H*C] row-major, the LinearHeads layout.
 */
export function kmeansHeadInit(
  data: TrainingSet,
  heads: number,
  clusters: number,
  kmeans: { nInit: number; maxIter: number; seed: number },
): { weights: Float32Array; bias: Float32Array } {
  const { dim } = data;
  const width = heads * clusters;
  const weights = new Float32Array(dim * width);
  const scale = 1 / Math.sqrt(dim);
  for (let h = 0; h < heads; h++) {
    const { centres } = fitKMeans(data.embeddings, data.count, dim, clusters, { nInit: kmeans.nInit, maxIter: kmeans.maxIter, seed: kmeans.seed + h });
    for (let c = 0; c < clusters; c++) {
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += centres[c * dim + d] ** 2;
      const factor = norm > 0 ? scale / Math.sqrt(norm) : 0;
      for (let d = 0; d < dim; d++) weights[d * width + h * clusters + c] = centres[c * dim + d] * factor;
    }
  }
  return { weights, bias: new Float32Array(width) };
}
