import type { TrainingSet } from '../contracts.ts';
import { type LinearHeadMethod, LinearHeadTrainer, type LinearHeadTrainingOptions } from '../scan/linear-head-trainer.ts';
import { checkLinearHeadOptions } from '../scan/scan-trainer.ts';
import { TemiError } from '../../runtime/errors.ts';
import { kmeansHeadInit } from './kmeans-head-init.ts';
import { TspPairDrawer } from './tsp-pairs.ts';

export interface TspOptions extends LinearHeadTrainingOptions {
  /** Neighbours per anchor the pair is drawn from (K). */
  readonly topK: number;
  /** sigma_i is half the distance to this nearest neighbour (1-based). */
  readonly sigmaRank: number;
  /** k-means restarts and iterations for the head initialisation. */
  readonly kmeansInit: number;
  readonly kmeansMaxIter: number;
}

/**
 * TSP (Zhou & Zhang): SCAN's objective on frozen features with Gaussian-weighted neighbours and a
 * single linear head started from k-means centres. Adam lr 1e-4; the weight decay (1e-4, coupled)
 * is SCAN's, which TSP builds on. `heads` > 1 trains extra heads from other k-means seeds and
 * serves the lowest-loss one, as SCAN does. k-means runs once, on the first round's window;
 * later rounds warm-start from the trained head (re-initialising would throw the training away).
 */
export const TSP_DEFAULTS: TspOptions = {
  numClusters: 10,
  heads: 1,
  batchSize: 256,
  learningRate: 1e-4,
  weightDecay: 1e-4,
  entropyWeight: 3,
  topK: 20,
  sigmaRank: 3,
  kmeansInit: 3,
  kmeansMaxIter: 300,
  seed: 0,
};

export function createTspTrainer(options: Partial<TspOptions> = {}): LinearHeadTrainer {
  const resolved = checkLinearHeadOptions({ ...TSP_DEFAULTS, ...options }, 'tsp');
  for (const key of ['sigmaRank', 'kmeansInit', 'kmeansMaxIter'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) {
      throw new TemiError('TS_ERR_TRAINER_CONFIG', `expected an integer >= 1, found ${String(resolved[key])}`, { where: `tsp.${key}` });
    }
  }
  const method: LinearHeadMethod = {
    name: 'tsp',
    initialHeads: async (data: TrainingSet, o: LinearHeadTrainingOptions) => {
      if (data.count < o.numClusters) {
        throw new TemiError('TS_ERR_TRAIN_TOO_FEW_RECORDS', `k-means initialisation of ${o.numClusters} clusters needs at least as many records, found ${data.count}`, {
          where: 'tsp.trainRound',
        });
      }
      return kmeansHeadInit(data, o.heads, o.numClusters, { nInit: resolved.kmeansInit, maxIter: resolved.kmeansMaxIter, seed: o.seed });
    },
    pairDrawer: (data: TrainingSet) => new TspPairDrawer(data, resolved.topK, resolved.sigmaRank),
  };
  return new LinearHeadTrainer(method, resolved);
}
