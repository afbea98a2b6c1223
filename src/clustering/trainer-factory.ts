import { TemiError } from '../runtime/errors.ts';
import { closestMatch } from '../runtime/schema/closest-match.ts';
import { fusedKernelsStatus } from '../tf/fused-kernels.ts';
import type { ClusterTrainer } from './contracts.ts';
import { StreamingKMeansTrainer } from './kmeans/index.ts';
import { MmdcTrainer } from './mmdc/index.ts';
import { SCAN_DEFAULTS, createScanTrainer } from './scan/index.ts';
import { DEFAULT_TEMI_CONFIG, TemiTrainer } from './temi/index.ts';
import { TSP_DEFAULTS, createTspTrainer } from './tsp/index.ts';

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

/**
 * The options the temi, scan and tsp trainers read. They take a partial config and ignore other
 * keys, so a misspelt option would silently train with the default; kmeans and mmdc refuse
 * unknown options themselves.
 */
const KNOWN_OPTIONS: Partial<Record<TrainerName, readonly string[]>> = {
  temi: Object.keys(DEFAULT_TEMI_CONFIG),
  scan: Object.keys(SCAN_DEFAULTS),
  tsp: Object.keys(TSP_DEFAULTS),
};

function refuseUnknownOptions(name: TrainerName, options: Record<string, unknown> | undefined): void {
  const known = KNOWN_OPTIONS[name];
  if (!known || !options) return;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestMatch(key, known);
    throw new TemiError('TS_ERR_TRAINER_OPTION_UNKNOWN', `unknown ${name} option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`, { where: key });
  }
}

/** Builds a trainer by name; each trainer checks its own options and names a bad one. */
export function createTrainer(name: TrainerName, settings: TrainerSettings): ClusterTrainer {
  refuseUnknownOptions(name, settings.options);
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

/** Trainers that run on the fused CPU kernels where they load (src/tf/fused-kernels.ts). */
const FUSED_KERNEL_TRAINERS: ReadonlySet<TrainerName> = new Set(['temi', 'mmdc']);

/**
 * For the log of the thread that trains: whether this trainer's fused kernels are in use, and
 * why not (without them TEMI trains ~1.5x and MMDC ~2x slower); undefined for other trainers.
 */
export function fusedKernelsReport(name: TrainerName): string | undefined {
  return FUSED_KERNEL_TRAINERS.has(name) ? `${name.toUpperCase()}'s fused CPU kernels: ${fusedKernelsStatus()}` : undefined;
}
