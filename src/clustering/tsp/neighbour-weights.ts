import type { TrainingSet } from '../contracts.ts';
import { validNeighbours } from '../scan/pair-drawer.ts';

/**
 * TSP's neighbour weights w_ij = exp(-||x_i - x_j||^2 / (2 sigma_i^2)) for the first `topK`
 * entries of every row of the neighbour table, with sigma_i = half the distance from i to its
 * `sigmaRank`-th nearest neighbour (3rd in TSP). Distances are measured where the neighbours
 * were mined: between L2-normalised embeddings, so ||x_i - x_j||^2 = 2 - 2 cos(x_i, x_j), taken
 * from the table's similarities when it has them. The sigmaRank-th neighbour therefore always
 * weighs exp(-2) ~ 0.135; closer ones more, farther ones less.
 *
 * Returns a (count x topK) array aligned with the table's first topK columns (0 where the table
 * has no neighbour).
 */
export function gaussianNeighbourWeights(data: TrainingSet, topK: number, sigmaRank: number): Float32Array {
  const { indices, k } = data.neighbours;
  const width = Math.min(topK, k);
  const span = Math.max(width, Math.min(sigmaRank, k));
  const similarities = data.neighbours.similarities ?? cosineOfTable(data, span);
  const stride = data.neighbours.similarities ? k : span;
  const weights = new Float32Array(data.count * width);
  for (let i = 0; i < data.count; i++) {
    const valid = validNeighbours(indices, k, i, span);
    if (valid === 0) continue;
    const reference = Math.min(sigmaRank, valid) - 1;
    const sigma = 0.5 * Math.sqrt(squaredDistance(similarities[i * stride + reference]));
    // identical points (sigma 0): the duplicates weigh 1, anything farther 0
    const twoSigmaSquared = Math.max(2 * sigma * sigma, 1e-12);
    for (let n = 0; n < Math.min(valid, width); n++) {
      weights[i * width + n] = Math.exp(-squaredDistance(similarities[i * stride + n]) / twoSigmaSquared);
    }
  }
  return weights;
}

function squaredDistance(cosine: number): number {
  return Math.max(0, 2 - 2 * cosine);
}

/** Cosine similarity of each row with its first `width` neighbours, for tables mined without them. */
function cosineOfTable(data: TrainingSet, width: number): Float32Array {
  const { indices, k } = data.neighbours;
  const { embeddings, dim, count } = data;
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += embeddings[i * dim + d] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const out = new Float32Array(count * width);
  for (let i = 0; i < count; i++) {
    for (let n = 0; n < width; n++) {
      const j = indices[i * k + n];
      if (j < 0) continue;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += embeddings[i * dim + d] * embeddings[j * dim + d];
      out[i * width + n] = dot / (norms[i] * norms[j]);
    }
  }
  return out;
}
