import { TemiError } from '../runtime/errors.ts';
import type { NeighbourTable } from '../clustering/contracts.ts';
import { exactDistance } from './exact-distance.ts';
import { exactNeighbours } from './exact-knn.ts';
import type { IndexMetric } from './index-config.ts';

/**
 * Turns candidate lists (an HNSW search asked for k+1 hits per row, or an exact search) into a
 * NeighbourTable: the row itself is dropped wherever it appears (with duplicate vectors it need
 * not come first), unknown candidates (-1) are skipped, and the first k others are kept.
 *
 * Rows left short are completed in two steps:
 * 1. exact fallback, under the graph's own metric — an approximate graph can return fewer than
 *    k+1 hits (tiny or freshly pruned graphs, rows whose own hits were evicted), so those rows
 *    are re-searched by brute force over the whole set; they are few, so this costs little;
 * 2. repeats — only when the set itself has fewer than k+1 rows can no row have k distinct
 *    neighbours; the found ones are then cycled (a trainer sampling neighbours uniformly sees
 *    the same distribution over distinct neighbours as if k were count-1).
 *
 * Similarities are cosines recomputed from the raw Float32 rows, so they are the same whatever
 * the index's metric or quantization.
 */

export const TOO_FEW_ROWS = 'TS_ERR_INDEX_TOO_FEW_ROWS';

export interface Candidates {
  /** count x width candidate rows, nearest first; -1 = not a row of this set. */
  readonly rows: Int32Array;
  readonly width: number;
  /** Valid candidates per row; all `width` when absent. */
  readonly counts?: Uint32Array;
}

export interface MiningStats {
  /** Rows whose approximate candidates were short and were re-searched exactly. */
  readonly exactFallbackRows: number;
  /** Rows whose neighbour list had to repeat entries because the set has fewer than k+1 rows. */
  readonly repeatedRows: number;
}

export interface MinedTable {
  readonly table: NeighbourTable;
  readonly stats: MiningStats;
}

export function checkNeighbourRequest(count: number, k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new TemiError(TOO_FEW_ROWS, `k must be a positive integer, got ${k}`, { where: 'k' });
  }
  if (count < 2) {
    throw new TemiError(TOO_FEW_ROWS, `a neighbour table needs at least 2 rows (a row is never its own neighbour), got ${count}`, {
      details: { count, k },
    });
  }
}

/** Copies into `out` the first k distinct candidates that are neither `self` nor unknown (-1); returns how many. */
function collectNeighbours(candidates: Int32Array, available: number, self: number, k: number, out: Int32Array): number {
  let taken = 0;
  for (let j = 0; j < available && taken < k; j++) {
    const candidate = candidates[j];
    if (candidate < 0 || candidate === self) continue;
    let seen = false;
    for (let t = 0; t < taken && !seen; t++) seen = out[t] === candidate;
    if (!seen) out[taken++] = candidate;
  }
  return taken;
}

function cosineSimilarities(embeddings: Float32Array, count: number, dim: number, indices: Int32Array, k: number): Float32Array {
  const inverseNorms = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let squares = 0;
    for (let j = 0; j < dim; j++) squares += embeddings[i * dim + j] ** 2;
    inverseNorms[i] = squares > 0 ? 1 / Math.sqrt(squares) : 0;
  }
  const similarities = new Float32Array(count * k);
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < k; t++) {
      const n = indices[i * k + t];
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += embeddings[i * dim + j] * embeddings[n * dim + j];
      similarities[i * k + t] = dot * inverseNorms[i] * inverseNorms[n];
    }
  }
  return similarities;
}

/**
 * Re-orders each row's valid candidates by their exact distance on the raw Float32 rows. A
 * quantized graph (f16, i8) finds the right neighbourhood but blurs the order inside it; asking
 * it for extra candidates and re-ranking them here recovers most of the lost recall for a small
 * cost (count x width x dim).
 */
export function rerankCandidates(embeddings: Float32Array, dim: number, candidates: Candidates, metric: IndexMetric): void {
  const { rows, width } = candidates;
  const count = rows.length / width;
  const scored: Array<{ row: number; distance: number }> = [];
  for (let row = 0; row < count; row++) {
    const available = candidates.counts ? Math.min(width, candidates.counts[row]) : width;
    scored.length = 0;
    for (let j = 0; j < available; j++) {
      const other = rows[row * width + j];
      if (other < 0) continue;
      scored.push({ row: other, distance: exactDistance(embeddings, row, embeddings, other, dim, metric) });
    }
    scored.sort((a, b) => a.distance - b.distance);
    for (let j = 0; j < scored.length; j++) rows[row * width + j] = scored[j].row;
    for (let j = scored.length; j < available; j++) rows[row * width + j] = -1;
  }
}

export function assembleNeighbourTable(
  embeddings: Float32Array,
  count: number,
  dim: number,
  k: number,
  candidates: Candidates,
  metric: IndexMetric = 'cos',
): MinedTable {
  checkNeighbourRequest(count, k);
  const indices = new Int32Array(count * k);
  const taken = new Int32Array(count);
  const short: number[] = [];
  const { rows, width } = candidates;
  for (let row = 0; row < count; row++) {
    const available = candidates.counts ? Math.min(width, candidates.counts[row]) : width;
    taken[row] = collectNeighbours(rows.subarray(row * width, (row + 1) * width), available, row, k, indices.subarray(row * k, (row + 1) * k));
    if (taken[row] < Math.min(k, count - 1)) short.push(row);
  }

  if (short.length > 0) {
    const queries = new Float32Array(short.length * dim);
    short.forEach((row, q) => queries.set(embeddings.subarray(row * dim, (row + 1) * dim), q * dim));
    const wanted = Math.min(k + 1, count);
    const exact = exactNeighbours(embeddings, count, queries, short.length, dim, wanted, metric);
    short.forEach((row, q) => {
      taken[row] = collectNeighbours(exact.rows.subarray(q * wanted, (q + 1) * wanted), wanted, row, k, indices.subarray(row * k, (row + 1) * k));
    });
  }

  let repeatedRows = 0;
  for (let row = 0; row < count; row++) {
    const have = taken[row];
    if (have >= k) continue;
    repeatedRows++;
    for (let t = have; t < k; t++) indices[row * k + t] = indices[row * k + (t % have)];
  }

  return {
    table: { k, indices, similarities: cosineSimilarities(embeddings, count, dim, indices, k) },
    stats: { exactFallbackRows: short.length, repeatedRows },
  };
}
