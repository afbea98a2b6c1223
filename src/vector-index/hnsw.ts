import { BatchMatches, Index, type Matches, MetricKind, ScalarKind } from 'usearch';
import type { ResolvedIndexConfig } from './index-config.ts';

/** Thin adapter over the usearch binding: one shape for one or many queries, counts always present. */

export interface RawMatches {
  /** queries x wanted; entries at or past counts[i] are padding, not keys. */
  readonly keys: BigUint64Array;
  readonly distances: Float32Array;
  readonly counts: Uint32Array;
  readonly wanted: number;
}

type HnswSettings = Pick<ResolvedIndexConfig, 'dimensions' | 'metric' | 'quantization' | 'connectivity' | 'expansionAdd' | 'expansionSearch'>;

export function createHnsw(settings: HnswSettings): Index {
  return new Index({
    dimensions: settings.dimensions,
    metric: settings.metric as MetricKind,
    quantization: settings.quantization as ScalarKind,
    connectivity: settings.connectivity,
    expansion_add: settings.expansionAdd,
    expansion_search: settings.expansionSearch,
    multi: false,
  });
}

export function searchHnsw(index: Index, queries: Float32Array, queryCount: number, wanted: number, threads: number): RawMatches {
  const keys = new BigUint64Array(queryCount * wanted);
  const distances = new Float32Array(queryCount * wanted);
  const counts = new Uint32Array(queryCount);
  if (queryCount === 0 || index.size() === 0) return { keys, distances, counts, wanted };
  const dim = index.dimensions();
  const flat = queries.length === queryCount * dim ? queries : queries.subarray(0, queryCount * dim);
  // Typed as Matches, but the binding returns BatchMatches (with counts) for more than one query
  // and a bare Matches (sliced to the hits, no counts) for exactly one.
  const found: Matches | BatchMatches = index.search(flat, wanted, threads);
  keys.set(found.keys);
  distances.set(found.distances);
  if (found instanceof BatchMatches) {
    for (let i = 0; i < queryCount; i++) counts[i] = Number(found.counts[i]);
  } else {
    counts[0] = found.keys.length;
  }
  return { keys, distances, counts, wanted };
}
