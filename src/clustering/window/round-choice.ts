import type { ClusterModel, TrainingSet } from '../contracts.ts';
import { fitKMeans } from '../kmeans/fit-kmeans.ts';
import { KMeansModel, normaliseRows } from '../kmeans/kmeans-model.ts';
import { knnAgreement } from './knn-agreement.ts';
import type { PrototypeModel } from './prototype-model.ts';
import { WINDOW_DEFAULTS, clusterWindow, yieldToEventLoop } from './window-clustering.ts';

export interface RoundCandidate {
  readonly name: string;
  readonly model: ClusterModel;
}

export interface RoundChoiceOptions {
  readonly clusters: number;
  readonly seed: number;
  /** Add k-means on the window's unit rows as a candidate. */
  readonly kmeans: boolean;
  /** Add the window clustering (spectral + balanced k-means, served by prototypes) as a candidate. */
  readonly window: boolean;
  /** Self-labelling refinement of the window clustering. */
  readonly refine: boolean;
  readonly agreementK?: number;
}

export interface RoundChoice {
  readonly winner: RoundCandidate;
  /** Every candidate's kNN agreement on the window, by name. */
  readonly scores: Readonly<Record<string, number>>;
  /** Candidates that lost, built here or passed in; the caller disposes those it owns. */
  readonly losers: readonly RoundCandidate[];
  /** The window clustering's prototypes, when it ran (the drift monitor measures fit against them). */
  readonly prototypes?: PrototypeModel;
}

const KMEANS_RESTARTS = 1;

/**
 * The label-free choice a round makes before publishing: the trainer's new model, the model in
 * service and, as asked, k-means and the window clustering on the same window are each applied
 * to the window, and the one whose clusters best keep mined neighbours together
 * (chance-corrected kNN agreement, knn-agreement.ts) wins. Earlier candidates win ties, so pass
 * the model in service first: an equally good newcomer does not relabel the stream.
 */
export async function chooseRoundModel(data: TrainingSet, given: readonly RoundCandidate[], options: RoundChoiceOptions): Promise<RoundChoice> {
  const candidates = [...given];
  let prototypes: PrototypeModel | undefined;
  if (options.kmeans && data.count >= options.clusters) candidates.push({ name: 'kmeans', model: windowKMeans(data, options.clusters, options.seed) });
  if (options.window && data.count > options.clusters * 2) {
    await yieldToEventLoop();
    const clustering = await clusterWindow(data, { clusters: options.clusters, seed: options.seed, refine: options.refine, agreementK: options.agreementK });
    prototypes = clustering.model;
    candidates.push({ name: `window (spectral ${clustering.dims}${options.refine ? ', refined' : ''})`, model: clustering.model });
  }
  const k = options.agreementK ?? WINDOW_DEFAULTS.agreementK;
  const scores: Record<string, number> = {};
  let best = 0;
  for (const [i, candidate] of candidates.entries()) {
    await yieldToEventLoop();
    const { cluster } = candidate.model.assign(data.embeddings, data.count);
    scores[candidate.name] = knnAgreement(cluster, data.neighbours, k, options.clusters);
    if (scores[candidate.name] > scores[candidates[best].name]) best = i;
  }
  return { winner: candidates[best], scores, losers: candidates.filter((_, i) => i !== best), prototypes };
}

/** k-means on unit rows (the cosine geometry of the kNN), served with the cosine metric. */
export function windowKMeans(data: TrainingSet, clusters: number, seed: number): KMeansModel {
  const unit = Float32Array.from(data.embeddings);
  normaliseRows(unit, data.count, data.dim);
  const fit = fitKMeans(unit, data.count, data.dim, clusters, { nInit: KMEANS_RESTARTS, seed, maxIter: 100 });
  return new KMeansModel(clusters, data.dim, fit.centres, 'cosine', Math.max(fit.inertia / data.count, Number.MIN_VALUE));
}
