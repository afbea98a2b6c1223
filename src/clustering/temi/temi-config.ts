import { TemiError } from '../../runtime/errors.ts';

/** Every knob of the TEMI trainer; defaults are the reference code's (see shared TEMI.md). */
export interface TemiConfig {
  /** Independent heads trained side by side; the best one serves. */
  readonly heads: number;
  readonly clusters: number;
  readonly hidden: number;
  readonly bottleneck: number;
  /** Exponent of the PMI-style objective, in (0.5, 1]. */
  readonly beta: number;
  readonly studentTemperature: number;
  readonly teacherTemperature: number;
  readonly batchSize: number;
  /** Base learning rate; the peak rate is learningRate * batchSize / 256 (linear scaling rule). */
  readonly learningRate: number;
  readonly warmupEpochs: number;
  readonly weightDecay: number;
  readonly teacherMomentum: number;
  readonly marginalMomentum: number;
  /** Epochs (of the trainer's whole life) during which the weight-normalised last layer stays fixed. */
  readonly freezeLastLayerEpochs: number;
  /** Standardise each input dimension with the mean/std of the first round's window. */
  readonly standardize: boolean;
  readonly seed: number;
}

export const DEFAULT_TEMI_CONFIG: TemiConfig = Object.freeze({
  heads: 16,
  clusters: 10,
  hidden: 512,
  bottleneck: 256,
  beta: 0.6,
  studentTemperature: 0.1,
  teacherTemperature: 0.1,
  batchSize: 256,
  learningRate: 1e-4,
  warmupEpochs: 5,
  weightDecay: 1e-4,
  teacherMomentum: 0.996,
  marginalMomentum: 0.9,
  freezeLastLayerEpochs: 1,
  standardize: false,
  seed: 0,
});

type Rule = (value: number) => boolean;
const positiveInteger: Rule = (v) => Number.isInteger(v) && v > 0;
const nonNegativeInteger: Rule = (v) => Number.isInteger(v) && v >= 0;
const positive: Rule = (v) => Number.isFinite(v) && v > 0;
const nonNegative: Rule = (v) => Number.isFinite(v) && v >= 0;
const unitInterval: Rule = (v) => Number.isFinite(v) && v >= 0 && v < 1;

const RULES: Record<Exclude<keyof TemiConfig, 'standardize'>, [Rule, string]> = {
  heads: [positiveInteger, 'a positive integer'],
  clusters: [(v) => Number.isInteger(v) && v >= 2, 'an integer >= 2'],
  hidden: [positiveInteger, 'a positive integer'],
  bottleneck: [positiveInteger, 'a positive integer'],
  beta: [(v) => Number.isFinite(v) && v > 0.5 && v <= 1, 'a number in (0.5, 1]'],
  studentTemperature: [positive, 'a positive number'],
  teacherTemperature: [positive, 'a positive number'],
  batchSize: [positiveInteger, 'a positive integer'],
  learningRate: [positive, 'a positive number'],
  warmupEpochs: [nonNegative, 'a number >= 0'],
  weightDecay: [nonNegative, 'a number >= 0'],
  teacherMomentum: [unitInterval, 'a number in [0, 1)'],
  marginalMomentum: [unitInterval, 'a number in [0, 1)'],
  freezeLastLayerEpochs: [nonNegativeInteger, 'an integer >= 0'],
  seed: [Number.isInteger, 'an integer'],
};

/** Defaults overlaid with `overrides`, checked field by field so a bad value names itself. */
export function resolveTemiConfig(overrides: Partial<TemiConfig> = {}): TemiConfig {
  const config: TemiConfig = { ...DEFAULT_TEMI_CONFIG, ...overrides };
  for (const [key, [rule, expected]] of Object.entries(RULES) as [keyof typeof RULES, [Rule, string]][]) {
    const value = config[key];
    if (typeof value !== 'number' || !rule(value)) {
      throw new TemiError('TS_ERR_TEMI_CONFIG_INVALID', `expected ${expected}, found ${JSON.stringify(value)}`, { where: key });
    }
  }
  if (typeof config.standardize !== 'boolean') {
    throw new TemiError('TS_ERR_TEMI_CONFIG_INVALID', `expected a boolean, found ${JSON.stringify(config.standardize)}`, { where: 'standardize' });
  }
  return Object.freeze(config);
}
