import type { ClusterModel, TrainingSet } from '../contracts.ts';
import { fitKMeans } from '../kmeans/fit-kmeans.ts';
import { KMeansModel, normaliseRows } from '../kmeans/kmeans-model.ts';
import { knnAgreement } from './knn-agreement.ts';
import type { PrototypeModel } from './prototype-model.ts';
import { choicePause, throwIfChoiceAborted } from './choice-pause.ts';
import { WINDOW_DEFAULTS, clusterWindow } from './window-clustering.ts';

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
  /** Candidates that lost, passed in or built on the caller's thread; the caller disposes those it owns. */
  readonly losers: readonly RoundCandidate[];
  /** The window clustering's prototypes, when it ran (the drift monitor measures fit against them). */
  readonly prototypes?: PrototypeModel;
}

/**
 * Something that makes a round's choice: chooseRoundModel on the calling thread, or
 * WorkerRoundChooser (src/clustering/worker) in a thread of its own. An abort of `signal` rejects
 * with ROUND_CHOICE_ABORTED and leaves the given candidates as they were.
 */
export type RoundChooser = (data: TrainingSet, given: readonly RoundCandidate[], options: RoundChoiceOptions, signal?: AbortSignal) => Promise<RoundChoice>;

/** The candidates a choice builds from the window alone, and the prototypes of its window clustering. */
export interface WindowCandidates {
  readonly built: readonly RoundCandidate[];
  readonly prototypes?: PrototypeModel;
}

const KMEANS_RESTARTS = 1;

/**
 * The label-free choice a round makes before publishing: the trainer's new model, the model in
 * service and, as asked, k-means and the window clustering on the same window are each applied
 * to the window, and the one whose clusters best keep mined neighbours together
 * (chance-corrected kNN agreement, knn-agreement.ts) wins. Earlier candidates win ties, so pass
 * the model in service first: an equally good newcomer does not relabel the stream. Seconds of
 * arithmetic on a 10k-row window, in pieces with a turn for the event loop between them.
 */
export async function chooseRoundModel(data: TrainingSet, given: readonly RoundCandidate[], options: RoundChoiceOptions, signal?: AbortSignal): Promise<RoundChoice> {
  throwIfChoiceAborted(signal);
  const { built, prototypes } = await windowCandidates(data, options, signal);
  const candidates = [...given, ...built];
  const scores: number[] = [];
  for (const candidate of candidates) {
    await choicePause(signal);
    scores.push(agreementOf(candidate.model.assign(data.embeddings, data.count).cluster, data, options));
  }
  return pickRoundModel(candidates, scores, prototypes);
}

/** The heavy part of the choice, which needs none of the caller's models: k-means and the window clustering, as asked. */
export async function windowCandidates(data: TrainingSet, options: RoundChoiceOptions, signal?: AbortSignal): Promise<WindowCandidates> {
  const built: RoundCandidate[] = [];
  let prototypes: PrototypeModel | undefined;
  if (options.kmeans && data.count >= options.clusters) {
    await choicePause(signal);
    built.push({ name: 'kmeans', model: windowKMeans(data, options.clusters, options.seed) });
  }
  if (options.window && data.count > options.clusters * 2) {
    await choicePause(signal);
    const clustering = await clusterWindow(data, { clusters: options.clusters, seed: options.seed, refine: options.refine, agreementK: options.agreementK }, signal);
    prototypes = clustering.model;
    built.push({ name: `window (spectral ${clustering.dims}${options.refine ? ', refined' : ''})`, model: clustering.model });
  }
  return { built, prototypes };
}

/** A candidate's score from its labels on the window. */
export function agreementOf(labels: Int32Array, data: TrainingSet, options: RoundChoiceOptions): number {
  return knnAgreement(labels, data.neighbours, options.agreementK ?? WINDOW_DEFAULTS.agreementK, options.clusters);
}

/** The best-scoring candidate (the earlier one on a tie) and the rest. */
export function pickRoundModel(candidates: readonly RoundCandidate[], scores: readonly number[], prototypes?: PrototypeModel): RoundChoice {
  const best = bestScore(scores);
  return {
    winner: candidates[best],
    scores: Object.fromEntries(candidates.map((candidate, i) => [candidate.name, scores[i]])),
    losers: candidates.filter((_, i) => i !== best),
    prototypes,
  };
}

/** Index of the highest score; the earliest on a tie (the model in service comes first). */
export function bestScore(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** k-means on unit rows (the cosine geometry of the kNN), served with the cosine metric. */
export function windowKMeans(data: TrainingSet, clusters: number, seed: number): KMeansModel {
  const unit = Float32Array.from(data.embeddings);
  normaliseRows(unit, data.count, data.dim);
  const fit = fitKMeans(unit, data.count, data.dim, clusters, { nInit: KMEANS_RESTARTS, seed, maxIter: 100 });
  return new KMeansModel(clusters, data.dim, fit.centres, 'cosine', Math.max(fit.inertia / data.count, Number.MIN_VALUE));
}
