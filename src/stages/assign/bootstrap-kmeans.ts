import type { ClusterModel } from '../../clustering/contracts.ts';
import { fitKMeans } from '../../clustering/kmeans/fit-kmeans.ts';
import { KMeansModel } from '../../clustering/kmeans/kmeans-model.ts';
import { type StreamRecord } from '../../runtime/contracts/index.ts';

export interface BootstrapFit {
  readonly model: ClusterModel;
  /** Mean squared distance of a row to its centre. */
  readonly meanInertia: number;
  readonly rows: number;
}

/** Restarts of the bootstrap fit: it runs once, on the record path, so fewer than the baseline's 10. */
const BOOTSTRAP_RESTARTS = 3;

/**
 * A k-means model over the embeddings of the records held before the first trained model, so
 * they (and what follows until training publishes) get a cluster instead of none. Rows without
 * an embedding of the first row's dimension are left out (assign dead-letters them later);
 * undefined when fewer usable rows than clusters remain. Confidence = softmax of negative squared
 * distances at the mean squared distance, as the streaming k-means trainer serves it.
 */
export function fitBootstrapModel(records: readonly StreamRecord[], clusters: number, seed: number): BootstrapFit | undefined {
  const dim = records.find((r) => r.payload.embedding)?.payload.embedding?.length;
  if (!dim) return undefined;
  const usable = records.map((r) => r.payload.embedding).filter((e): e is Float32Array => e !== undefined && e.length === dim && e.every(Number.isFinite));
  if (usable.length < clusters) return undefined;
  const rows = new Float32Array(usable.length * dim);
  usable.forEach((e, i) => rows.set(e, i * dim));
  const fit = fitKMeans(rows, usable.length, dim, clusters, { nInit: BOOTSTRAP_RESTARTS, seed });
  const meanInertia = fit.inertia / usable.length;
  return { model: new KMeansModel(clusters, dim, fit.centres, 'euclidean', Math.max(meanInertia, Number.MIN_VALUE)), meanInertia, rows: usable.length };
}
