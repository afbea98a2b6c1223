import type { NeighbourTable } from '../contracts.ts';
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { symmetricEigen } from '../../numeric/symmetric-eigen.ts';

export interface SpectralOptions {
  /** Neighbours per row that make the graph's edges (the first `graphK` of the mined table). */
  readonly graphK: number;
  /** Leading eigenvectors computed: the widest embedding asked for. */
  readonly dims: number;
  /** Subspace iterations (sparse products of a block of dims + 10 columns). */
  readonly iterations: number;
}

/** Products between two orthonormalisations: the block cannot collapse in so few at these eigenvalues (all within [-1, 1], the leading ones near 1). */
const PRODUCTS_PER_ORTHONORMALISATION = 4;

/**
 * The leading eigenvectors of the kNN graph's normalised adjacency D^-1/2 A D^-1/2
 * (A = B + B^T, B the first graphK neighbours), as a count x dims row-major matrix in descending
 * order of eigenvalue; `leadingRows` cuts it to m columns with unit rows (Ng, Jordan & Weiss), and
 * k-means on those rows is spectral clustering. Subspace iteration with ten spare columns, then
 * Rayleigh-Ritz. The leading eigenvalues of such graphs lie within a few thousandths of each
 * other (Fashion-MNIST, k 10: 1, 0.999, 0.996, ... 0.942 at the 20th), so block Krylov with a
 * few steps cannot separate them; a hundred-odd plain products can, well enough for k-means,
 * which needs only the span.
 */
export async function spectralEmbedding(
  neighbours: NeighbourTable,
  count: number,
  options: SpectralOptions,
  random: SeededRandom,
  /** Awaited after each orthonormalisation: the iteration is seconds of arithmetic on a 10k-row window. */
  pause: () => Promise<void> = async () => {},
): Promise<Float64Array> {
  const dims = Math.min(options.dims, count - 1);
  const graph = symmetricGraph(neighbours, count, options.graphK);
  const width = Math.min(count, dims + 10);
  let basis: Float64Array = new Float64Array(count * width);
  for (let i = 0; i < basis.length; i++) basis[i] = random.normal();
  orthonormalise(basis, count, width);
  for (let it = 1; it <= options.iterations; it++) {
    basis = applyGraph(graph, basis, count, width);
    if (it % PRODUCTS_PER_ORTHONORMALISATION === 0 || it === options.iterations) {
      orthonormalise(basis, count, width);
      await pause();
    }
  }
  const image = applyGraph(graph, basis, count, width);
  const small = new Float64Array(width * width);
  for (let i = 0; i < count; i++) {
    const b = i * width;
    for (let p = 0; p < width; p++) {
      const x = basis[b + p];
      for (let q = 0; q < width; q++) small[p * width + q] += x * image[b + q];
    }
  }
  for (let p = 0; p < width; p++) for (let q = p + 1; q < width; q++) small[p * width + q] = small[q * width + p] = (small[p * width + q] + small[q * width + p]) / 2;
  const { vectors } = symmetricEigen(small, width);
  const out = new Float64Array(count * dims);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < dims; c++) {
      let sum = 0;
      for (let p = 0; p < width; p++) sum += basis[i * width + p] * vectors[c * width + p];
      out[i * dims + c] = sum;
    }
  }
  return out;
}

/** The first m columns of a spectral embedding with every row scaled to unit length. */
export function leadingRows(embedding: Float64Array, count: number, m: number): Float32Array {
  const width = embedding.length / count;
  const kept = Math.min(m, width);
  const out = new Float32Array(count * kept);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let c = 0; c < kept; c++) norm += embedding[i * width + c] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < kept; c++) out[i * kept + c] = embedding[i * width + c] * scale;
  }
  return out;
}

interface Graph {
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
  /** Edge weights already divided by sqrt(d_i d_j). */
  readonly weights: Float64Array;
}

function symmetricGraph(neighbours: NeighbourTable, count: number, graphK: number): Graph {
  const k = Math.min(graphK, neighbours.k);
  const degreeCount = new Int32Array(count);
  const valid = (j: number): boolean => j >= 0 && j < count;
  for (let i = 0; i < count; i++) {
    for (let n = 0; n < k; n++) {
      const j = neighbours.indices[i * neighbours.k + n];
      if (!valid(j) || j === i) continue;
      degreeCount[i]++;
      degreeCount[j]++;
    }
  }
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i] + degreeCount[i];
  const targets = new Int32Array(offsets[count]);
  const fill = offsets.slice(0, count);
  for (let i = 0; i < count; i++) {
    for (let n = 0; n < k; n++) {
      const j = neighbours.indices[i * neighbours.k + n];
      if (!valid(j) || j === i) continue;
      targets[fill[i]++] = j;
      targets[fill[j]++] = i;
    }
  }
  const weights = new Float64Array(targets.length);
  for (let i = 0; i < count; i++) {
    for (let e = offsets[i]; e < offsets[i + 1]; e++) {
      const j = targets[e];
      weights[e] = 1 / Math.sqrt(Math.max(degreeCount[i], 1) * Math.max(degreeCount[j], 1));
    }
  }
  return { offsets, targets, weights };
}

/** M times a count x width row-major block. */
function applyGraph(graph: Graph, block: Float64Array, count: number, width: number): Float64Array {
  const out = new Float64Array(count * width);
  for (let i = 0; i < count; i++) {
    const o = i * width;
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
      const w = graph.weights[e];
      const s = graph.targets[e] * width;
      for (let c = 0; c < width; c++) out[o + c] += w * block[s + c];
    }
  }
  return out;
}

/** Modified Gram-Schmidt on the columns of a count x width row-major block. */
function orthonormalise(block: Float64Array, count: number, width: number): void {
  for (let c = 0; c < width; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < count; i++) dot += block[i * width + c] * block[i * width + p];
      for (let i = 0; i < count; i++) block[i * width + c] -= dot * block[i * width + p];
    }
    let norm = 0;
    for (let i = 0; i < count; i++) norm += block[i * width + c] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < count; i++) block[i * width + c] *= scale;
  }
}
