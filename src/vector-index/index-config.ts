import { TemiError } from '../runtime/errors.ts';

export type IndexMetric = 'cos' | 'l2sq' | 'ip';
export type IndexQuantization = 'f32' | 'f16' | 'i8';
/** window: keep the newest `capacity` vectors. reservoir: a uniform sample of everything seen (Algorithm R). */
export type RetentionPolicy = 'window' | 'reservoir';

export interface VectorIndexConfig {
  readonly dimensions: number;
  readonly metric?: IndexMetric;
  readonly connectivity?: number;
  readonly expansionAdd?: number;
  readonly expansionSearch?: number;
  readonly quantization?: IndexQuantization;
  /** Most vectors kept at once; older or unsampled ones are removed from the graph. */
  readonly capacity: number;
  readonly policy?: RetentionPolicy;
  /** Seed of the reservoir's sampling decisions (and of trainingSet's row subsampling). */
  readonly seed?: number;
  /** Native threads per usearch call; 0 = every core. */
  readonly threads?: number;
}

export type ResolvedIndexConfig = Required<VectorIndexConfig>;

export const INDEX_BAD_CONFIG = 'TS_ERR_INDEX_BAD_CONFIG';

const METRICS: readonly IndexMetric[] = ['cos', 'l2sq', 'ip'];
const QUANTIZATIONS: readonly IndexQuantization[] = ['f32', 'f16', 'i8'];
const POLICIES: readonly RetentionPolicy[] = ['window', 'reservoir'];

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TemiError(INDEX_BAD_CONFIG, `${name} must be an integer >= ${min}, got ${value}`, { where: `index.${name}` });
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new TemiError(INDEX_BAD_CONFIG, `${name} must be one of ${allowed.join(', ')}, got ${String(value)}`, { where: `index.${name}` });
  }
  return value;
}

export function resolveIndexConfig(config: VectorIndexConfig): ResolvedIndexConfig {
  return {
    dimensions: positiveInteger('dimensions', config.dimensions),
    metric: oneOf('metric', config.metric ?? 'cos', METRICS),
    connectivity: positiveInteger('connectivity', config.connectivity ?? 16, 2),
    expansionAdd: positiveInteger('expansionAdd', config.expansionAdd ?? 128),
    expansionSearch: positiveInteger('expansionSearch', config.expansionSearch ?? 64),
    quantization: oneOf('quantization', config.quantization ?? 'f32', QUANTIZATIONS),
    capacity: positiveInteger('capacity', config.capacity),
    policy: oneOf('policy', config.policy ?? 'window', POLICIES),
    seed: positiveInteger('seed', config.seed ?? 1, 0),
    threads: positiveInteger('threads', config.threads ?? 0, 0),
  };
}
