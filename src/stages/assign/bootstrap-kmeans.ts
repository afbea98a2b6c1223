import type { ClusterModel } from '../../clustering/contracts.ts';
import { fitKMeans } from '../../clustering/kmeans/fit-kmeans.ts';
import { KMeansModel } from '../../clustering/kmeans/kmeans-model.ts';
import { throwIfChoiceAborted } from '../../clustering/window/choice-pause.ts';
import { chooseRoundModel, type RoundChooser } from '../../clustering/window/round-choice.ts';
import { type StreamRecord } from '../../runtime/contracts/index.ts';
import { buildNeighbourTable } from '../../vector-index/neighbour-table.ts';

export interface BootstrapFit {
  readonly model: ClusterModel;
  /** Mean squared distance of a row to its centre (k-means), or the winner's kNN agreement. */
  readonly meanInertia: number;
  readonly rows: number;
  /** Which candidate won and every candidate's score, when the window candidates ran. */
  readonly winner?: string;
  readonly scores?: Readonly<Record<string, number>>;
}

export interface BootstrapFitOptions {
  /** A stop: the fit rejects with ROUND_CHOICE_ABORTED at its next pause (at once in a WorkerRoundChooser). */
  readonly signal?: AbortSignal;
  /** Makes the label-free choice: chooseRoundModel on the calling thread by default, or a WorkerRoundChooser's. */
  readonly chooser?: RoundChooser;
}

/** Restarts of the bootstrap fit: it runs once, on the record path, so fewer than the baseline's 10. */
const BOOTSTRAP_RESTARTS = 3;
/** Neighbours mined for the bootstrap's own graph (the window clustering uses the first 10). */
const BOOTSTRAP_K = 10;

/**
 * The first model, over the embeddings of the records held before any trained model, so they
 * (and what follows until training publishes) get a cluster instead of none. With `window`
 * (default), the records' exact kNN graph is mined and the same label-free choice a training
 * round makes picks between k-means on unit rows and the window clustering (spectral, balanced,
 * served by prototypes); without it, plain k-means on the raw embeddings. Rows without an
 * embedding of the first row's dimension are left out (assign dead-letters them later);
 * undefined when fewer usable rows than clusters remain. `options.signal` aborts it
 * (ROUND_CHOICE_ABORTED); `options.chooser` runs the choice elsewhere (a thread of its own).
 */
export async function fitBootstrapModel(records: readonly StreamRecord[], clusters: number, seed: number, window = true, options: BootstrapFitOptions = {}): Promise<BootstrapFit | undefined> {
  const dim = records.find((r) => r.payload.embedding)?.payload.embedding?.length;
  if (!dim) return undefined;
  const usable = records.map((r) => r.payload.embedding).filter((e): e is Float32Array => e !== undefined && e.length === dim && e.every(Number.isFinite));
  if (usable.length < clusters) return undefined;
  const rows = new Float32Array(usable.length * dim);
  usable.forEach((e, i) => rows.set(e, i * dim));
  return fitBootstrapRows(rows, usable.length, dim, clusters, seed, window, options);
}

/** The bootstrap fit on count x dim row-major embeddings (all finite). */
export async function fitBootstrapRows(rows: Float32Array, count: number, dim: number, clusters: number, seed: number, window = true, options: BootstrapFitOptions = {}): Promise<BootstrapFit> {
  const { signal, chooser = chooseRoundModel } = options;
  throwIfChoiceAborted(signal);
  if (window && count > BOOTSTRAP_K * 2 && count > clusters * 2) {
    const neighbours = await buildNeighbourTable(rows, count, dim, BOOTSTRAP_K, { exact: true });
    const choice = await chooser({ count, dim, embeddings: rows, neighbours }, [], { clusters, seed, kmeans: true, window: true, refine: false }, signal);
    for (const loser of choice.losers) loser.model.dispose();
    return { model: choice.winner.model, meanInertia: choice.scores[choice.winner.name], rows: count, winner: choice.winner.name, scores: choice.scores };
  }
  const fit = fitKMeans(rows, count, dim, clusters, { nInit: BOOTSTRAP_RESTARTS, seed });
  const meanInertia = fit.inertia / count;
  return { model: new KMeansModel(clusters, dim, fit.centres, 'euclidean', Math.max(meanInertia, Number.MIN_VALUE)), meanInertia, rows: count };
}
