import { exactSearch, MetricKind } from 'usearch';
import type { IndexMetric } from './index-config.ts';

/**
 * Brute-force kNN through usearch's SIMD `exactSearch`, in query blocks. Two quirks of the
 * binding shape this wrapper:
 * - it materialises a dataset x queries matrix of (offset, distance) pairs twice (16 bytes per
 *   pair), so 20k x 20k in one call would need 6.4 GB: queries go in blocks sized to a budget;
 * - it reads the typed array's underlying ArrayBuffer from byte 0, ignoring `byteOffset`, so a
 *   `subarray` view would silently search the wrong rows: views are copied to fresh arrays.
 */

const PAIR_BYTES = 16;
const BLOCK_BUDGET_BYTES = 256 * 1024 * 1024;

export interface ExactNeighbours {
  /** queries x wanted row offsets into the dataset, nearest first. */
  readonly rows: Int32Array;
  readonly distances: Float32Array;
  readonly wanted: number;
}

function ownBuffer(values: Float32Array, length: number): Float32Array {
  if (values.byteOffset === 0 && values.length === length && values.buffer.byteLength === length * 4) return values;
  return values.slice(0, length);
}

export function exactNeighbours(
  dataset: Float32Array,
  datasetCount: number,
  queries: Float32Array,
  queryCount: number,
  dim: number,
  wanted: number,
  metric: IndexMetric = 'cos',
): ExactNeighbours {
  const rows = new Int32Array(queryCount * wanted);
  const distances = new Float32Array(queryCount * wanted);
  if (queryCount === 0 || wanted === 0) return { rows, distances, wanted };
  const data = ownBuffer(dataset, datasetCount * dim);
  const block = Math.max(1, Math.floor(BLOCK_BUDGET_BYTES / (2 * PAIR_BYTES * Math.max(1, datasetCount))));
  for (let first = 0; first < queryCount; first += block) {
    const last = Math.min(queryCount, first + block);
    const blockQueries = queries.slice(first * dim, last * dim);
    const found = exactSearch(data, blockQueries, dim, wanted, metric as MetricKind, 0);
    const width = (last - first) * wanted;
    for (let i = 0; i < width; i++) rows[first * wanted + i] = Number(found.keys[i]);
    distances.set(found.distances.subarray(0, width), first * wanted);
  }
  return { rows, distances, wanted };
}
