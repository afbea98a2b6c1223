import type { TrainingSet } from '../contracts.ts';
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { TemiError } from '../../runtime/errors.ts';
import { type LinearHeadMethod, LinearHeadTrainer, type LinearHeadTrainingOptions } from './linear-head-trainer.ts';
import { uniformLinearInit } from './linear-heads.ts';
import { ScanPairDrawer } from './scan-pairs.ts';

export interface ScanOptions extends LinearHeadTrainingOptions {
  /** Neighbours per anchor the pair is drawn from (plus the anchor itself). */
  readonly topK: number;
}

/**
 * SCAN's clustering step (Van Gansbeke et al., ECCV 2020) on frozen embeddings: the backbone is
 * the embed stage, so what trains is SCAN's clustering head, a linear layer D -> C. SCAN's
 * reference configuration for a frozen backbone (update_cluster_head_only: True, ImageNet) trains
 * 10 such heads side by side and keeps the one with the lowest SCAN loss; so do we: `heads`
 * defaults to 10, the objective is the sum of the heads' losses, and the served head is the one
 * with the lowest mean training loss over the round's last epoch (SCAN picks by loss on its
 * evaluation pass; the training loss needs no extra pass and no labels).
 */
export const SCAN_DEFAULTS: ScanOptions = {
  numClusters: 10,
  heads: 10,
  batchSize: 256,
  learningRate: 1e-4,
  weightDecay: 1e-4,
  entropyWeight: 5,
  topK: 20,
  seed: 0,
};

export function createScanTrainer(options: Partial<ScanOptions> = {}): LinearHeadTrainer {
  const resolved = checkLinearHeadOptions({ ...SCAN_DEFAULTS, ...options }, 'scan');
  const method: LinearHeadMethod = {
    name: 'scan',
    initialHeads: async (data: TrainingSet, o: LinearHeadTrainingOptions, random: SeededRandom) =>
      uniformLinearInit(data.dim, o.heads * o.numClusters, () => random.next()),
    pairDrawer: (data: TrainingSet) => new ScanPairDrawer(data.neighbours, resolved.topK),
  };
  return new LinearHeadTrainer(method, resolved);
}

/** Range checks shared by the scan and tsp trainers; errors name the option. */
export function checkLinearHeadOptions<T extends LinearHeadTrainingOptions & { topK: number }>(options: T, trainer: string): T {
  const positiveIntegers: (keyof T)[] = ['numClusters', 'heads', 'batchSize', 'topK'];
  for (const key of positiveIntegers) {
    const value = options[key] as unknown;
    if (!Number.isInteger(value) || (value as number) < (key === 'numClusters' ? 2 : 1)) {
      throw new TemiError('TS_ERR_TRAINER_CONFIG', `expected an integer >= ${key === 'numClusters' ? 2 : 1}, found ${String(value)}`, {
        where: `${trainer}.${String(key)}`,
      });
    }
  }
  const nonNegative: (keyof T)[] = ['learningRate', 'weightDecay', 'entropyWeight'];
  for (const key of nonNegative) {
    const value = options[key] as unknown;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (key === 'learningRate' && value === 0)) {
      throw new TemiError('TS_ERR_TRAINER_CONFIG', `expected a ${key === 'learningRate' ? 'positive' : 'non-negative'} number, found ${String(value)}`, {
        where: `${trainer}.${String(key)}`,
      });
    }
  }
  if (!Number.isInteger(options.seed)) {
    throw new TemiError('TS_ERR_TRAINER_CONFIG', `expected an integer, found ${String(options.seed)}`, { where: `${trainer}.seed` });
  }
  return options;
}
