import type { ClusterTrainer } from './contracts.ts';
import { StreamingKMeansTrainer } from './kmeans/index.ts';
import { MmdcTrainer } from './mmdc/index.ts';
import { createScanTrainer } from './scan/index.ts';
import { TemiTrainer } from './temi/index.ts';
import { createTspTrainer } from './tsp/index.ts';

export const TRAINER_NAMES = ['temi', 'scan', 'tsp', 'kmeans', 'mmdc'] as const;
export type TrainerName = (typeof TRAINER_NAMES)[number];

export interface TrainerSettings {
  readonly clusters: number;
  readonly seed: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly heads?: number;
  /** Trainer-specific knobs (e.g. temi's beta, kmeans' decayFactor); validated by the trainer. */
  readonly options?: Record<string, unknown>;
}

/** Builds a trainer by name; each trainer checks its own options and names a bad one. */
export function createTrainer(name: TrainerName, settings: TrainerSettings): ClusterTrainer {
  const common = {
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    ...(settings.learningRate !== undefined ? { learningRate: settings.learningRate } : {}),
    ...(settings.heads !== undefined ? { heads: settings.heads } : {}),
  };
  switch (name) {
    case 'temi':
      return new TemiTrainer({ clusters: settings.clusters, seed: settings.seed, ...common, ...settings.options });
    case 'scan':
      return createScanTrainer({ numClusters: settings.clusters, seed: settings.seed, ...common, ...settings.options });
    case 'tsp':
      return createTspTrainer({ numClusters: settings.clusters, seed: settings.seed, ...common, ...settings.options });
    case 'kmeans':
      return new StreamingKMeansTrainer({ numClusters: settings.clusters, seed: settings.seed, ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}), ...settings.options });
    case 'mmdc':
      // One network, no heads setting: `heads` is refused by name like any unknown option.
      return new MmdcTrainer({ clusters: settings.clusters, seed: settings.seed, ...common, ...settings.options });
  }
}
