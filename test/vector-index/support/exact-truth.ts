import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { exactNeighbours } from '../../../src/vector-index/exact-knn.ts';
import type { IndexMetric } from '../../../src/vector-index/index-config.ts';

/**
 * Exact top-k neighbours (self excluded) of the given rows, computed in small blocks with a
 * yield between blocks so a long reference computation does not block the test runner's RPC.
 * Returns sampleRows.length x k row ids.
 */
export async function exactNeighboursOfRows(
  rows: Float32Array,
  count: number,
  dim: number,
  sampleRows: Int32Array,
  k: number,
  metric: IndexMetric = 'cos',
): Promise<Int32Array> {
  const out = new Int32Array(sampleRows.length * k);
  const block = 100;
  for (let first = 0; first < sampleRows.length; first += block) {
    const ids = sampleRows.subarray(first, first + block);
    const queries = new Float32Array(ids.length * dim);
    ids.forEach((row, q) => queries.set(rows.subarray(row * dim, (row + 1) * dim), q * dim));
    const found = exactNeighbours(rows, count, queries, ids.length, dim, k + 1, metric);
    ids.forEach((row, q) => {
      let taken = 0;
      for (let j = 0; j <= k && taken < k; j++) {
        const candidate = found.rows[q * (k + 1) + j];
        if (candidate !== row) out[(first + q) * k + taken++] = candidate;
      }
    });
    await yieldToEventLoop();
  }
  return out;
}

/** Exact neighbours of held-out query vectors, in blocks with yields. queryCount x k dataset rows. */
export async function exactNeighboursOfQueries(
  rows: Float32Array,
  count: number,
  queries: Float32Array,
  queryCount: number,
  dim: number,
  k: number,
): Promise<Int32Array> {
  const out = new Int32Array(queryCount * k);
  for (let first = 0; first < queryCount; first += 100) {
    const last = Math.min(queryCount, first + 100);
    const found = exactNeighbours(rows, count, queries.subarray(first * dim, last * dim), last - first, dim, k, 'cos');
    out.set(found.rows, first * k);
    await yieldToEventLoop();
  }
  return out;
}

/** Every `stride`-th row id, a spread-out sample for recall estimates. */
export function everyNthRow(count: number, stride: number): Int32Array {
  return Int32Array.from({ length: Math.ceil(count / stride) }, (_, i) => i * stride);
}

/** Mean over the sampled rows of |mined ∩ exact| / k. */
export function sampledRecall(mined: Int32Array, sampleRows: Int32Array, truth: Int32Array, k: number): number {
  let hits = 0;
  sampleRows.forEach((row, s) => {
    const expected = new Set(truth.subarray(s * k, (s + 1) * k));
    for (let t = 0; t < k; t++) if (expected.has(mined[row * k + t])) hits++;
  });
  return hits / (sampleRows.length * k);
}
