import { TemiError } from '../../runtime/errors.ts';

export type MmdcTrunk = 'cnn4' | 'resnet18';
export type MmdcDomain = 'grey' | 'natural';
export type MmdcMatchView = 'plain' | 'augmented';

/**
 * Every knob of the MMDC trainer (shared/MMDC.md, docs/MMDC.md). Defaults follow the official
 * code's MNIST command where it has one, and change it where a 2-core CPU budget forced it; each
 * change is written down with its figure in docs/MMDC.md.
 */
export interface MmdcConfig {
  readonly clusters: number;
  /** [height, width, channels] of one image; inferred from the first window when omitted (square, 1 or 3 channels). */
  readonly imageShape?: readonly [number, number, number];
  readonly trunk: MmdcTrunk;
  /** Channels of the trunk's stages: 4 for cnn4, the first stage's width for resnet18 (doubled per stage). */
  readonly widths: readonly number[];
  /** Output (unit-sphere) dimension d; the GMM means are the first `clusters` one-hot vectors of R^d. */
  readonly outputDim: number;
  /** Isotropic noise of the GMM targets before renormalising (0: exactly one-hot, the official default). */
  readonly sigma: number;
  /** The rotation-prediction auxiliary task: a 4-way rotation epoch every `rotationEvery` clustering epochs. */
  readonly rotation: boolean;
  readonly rotationEvery: number;
  /** Fraction of a round's epochs (the last ones) trained on k-means pseudo-targets; 0 turns refinement off. */
  readonly refineFraction: number;
  /**
   * Fraction of a round's epochs (the last ones) trained at `learningRate x decayFactor`: the
   * official commands' step decay, applied within each round so a warm-started round starts at
   * the full rate again; 0 keeps the rate constant.
   */
  readonly decayFraction: number;
  readonly decayFactor: number;
  readonly domain: MmdcDomain;
  /** Crop sides as fractions of the image side; a training view picks one at random, then resizes back. */
  readonly crops: readonly number[];
  /** The crop the plain (inference) view takes, centred, as a fraction of the side. */
  readonly inferenceCrop: number;
  /** Random rotation range of the training view, in degrees (+-). */
  readonly rotationDegrees: number;
  /**
   * What the per-batch matching reads: 'plain', the batch's plain views through the network in
   * eval mode (the official code; one extra forward pass a step), or 'augmented', the outputs of
   * the training forward itself (free).
   */
  readonly matchView: MmdcMatchView;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /**
   * Independent starts of a cold trainer's first round (fresh weights, targets and draws each);
   * the one with the lowest final clustering loss is kept, as k-means keeps its lowest-inertia
   * restart. Warm rounds train the kept network only. 1: a single start.
   */
  readonly restarts: number;
  readonly seed: number;
}

/** Domain-specific defaults: the official MNIST command for grey, its CIFAR-10 command for natural. */
export const DOMAIN_DEFAULTS: Record<MmdcDomain, Pick<MmdcConfig, 'crops' | 'inferenceCrop' | 'rotationDegrees'>> = {
  grey: { crops: [24 / 28, 20 / 28, 16 / 28], inferenceCrop: 24 / 28, rotationDegrees: 25 },
  natural: { crops: [20 / 32], inferenceCrop: 20 / 32, rotationDegrees: 0 },
};

export const DEFAULT_MMDC_CONFIG = Object.freeze({
  clusters: 10,
  trunk: 'cnn4' as MmdcTrunk,
  domain: 'grey' as MmdcDomain,
  sigma: 0,
  rotation: true,
  rotationEvery: 3,
  refineFraction: 0.2,
  decayFraction: 0,
  decayFactor: 0.1,
  matchView: 'plain' as MmdcMatchView,
  batchSize: 128,
  learningRate: 0.05,
  momentum: 0.9,
  weightDecay: 5e-4,
  restarts: 1,
  seed: 0,
});

/** cnn4 at half the official widths (32-256): 533 vs 391 samples/s on 2 cores (docs/MMDC.md); resnet18 as the official. */
export const DEFAULT_WIDTHS: Record<MmdcTrunk, readonly number[]> = { cnn4: [16, 32, 64, 128], resnet18: [64] };

export type MmdcOptions = Partial<Omit<MmdcConfig, 'imageShape'>> & { imageShape?: readonly number[] };

const INVALID = 'TS_ERR_MMDC_CONFIG_INVALID';

function fail(where: string, expected: string, value: unknown): never {
  throw new TemiError(INVALID, `expected ${expected}, found ${JSON.stringify(value)}`, { where });
}

const isPositiveInteger = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const KNOWN = new Set([
  'clusters', 'imageShape', 'trunk', 'widths', 'outputDim', 'sigma', 'rotation', 'rotationEvery', 'refineFraction', 'decayFraction', 'decayFactor', 'domain',
  'crops', 'inferenceCrop', 'rotationDegrees', 'matchView', 'batchSize', 'learningRate', 'momentum', 'weightDecay', 'restarts', 'seed',
]);

/** Defaults overlaid with `options`, checked field by field so a bad value names itself. */
export function resolveMmdcConfig(options: MmdcOptions = {}): MmdcConfig {
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new TemiError('TS_ERR_MMDC_CONFIG_UNKNOWN', `unknown mmdc option "${key}"; known: ${[...KNOWN].join(', ')}`, { where: key });
  }
  const trunk = options.trunk ?? DEFAULT_MMDC_CONFIG.trunk;
  if (trunk !== 'cnn4' && trunk !== 'resnet18') fail('trunk', "'cnn4' or 'resnet18'", trunk);
  const domain = options.domain ?? (trunk === 'resnet18' ? 'natural' : DEFAULT_MMDC_CONFIG.domain);
  if (domain !== 'grey' && domain !== 'natural') fail('domain', "'grey' or 'natural'", domain);
  const merged = { ...DEFAULT_MMDC_CONFIG, ...DOMAIN_DEFAULTS[domain], widths: DEFAULT_WIDTHS[trunk], ...stripUndefined(options), trunk, domain };
  const clusters = merged.clusters;
  if (!isPositiveInteger(clusters) || clusters < 2) fail('clusters', 'an integer >= 2', clusters);
  const outputDim = merged.outputDim ?? clusters;
  if (!isPositiveInteger(outputDim) || outputDim < clusters) fail('outputDim', `an integer >= clusters (${clusters})`, outputDim);
  const expectedWidths = trunk === 'cnn4' ? 4 : 1;
  if (!Array.isArray(merged.widths) || merged.widths.length !== expectedWidths || !merged.widths.every(isPositiveInteger)) {
    fail('widths', `${expectedWidths} positive integer(s) for trunk ${trunk}`, merged.widths);
  }
  if (!isFiniteNumber(merged.sigma) || merged.sigma < 0) fail('sigma', 'a number >= 0', merged.sigma);
  if (typeof merged.rotation !== 'boolean') fail('rotation', 'a boolean', merged.rotation);
  if (!isPositiveInteger(merged.rotationEvery)) fail('rotationEvery', 'a positive integer', merged.rotationEvery);
  if (!isFiniteNumber(merged.refineFraction) || merged.refineFraction < 0 || merged.refineFraction >= 1) fail('refineFraction', 'a number in [0, 1)', merged.refineFraction);
  if (!isFiniteNumber(merged.decayFraction) || merged.decayFraction < 0 || merged.decayFraction > 1) fail('decayFraction', 'a number in [0, 1]', merged.decayFraction);
  if (!isFiniteNumber(merged.decayFactor) || merged.decayFactor <= 0 || merged.decayFactor > 1) fail('decayFactor', 'a number in (0, 1]', merged.decayFactor);
  const fraction = (v: unknown): boolean => isFiniteNumber(v) && v > 0 && v <= 1;
  if (!Array.isArray(merged.crops) || merged.crops.length === 0 || !merged.crops.every(fraction)) fail('crops', 'a non-empty list of fractions in (0, 1]', merged.crops);
  if (!fraction(merged.inferenceCrop)) fail('inferenceCrop', 'a fraction in (0, 1]', merged.inferenceCrop);
  if (!isFiniteNumber(merged.rotationDegrees) || merged.rotationDegrees < 0 || merged.rotationDegrees > 180) fail('rotationDegrees', 'a number in [0, 180]', merged.rotationDegrees);
  if (merged.matchView !== 'plain' && merged.matchView !== 'augmented') fail('matchView', "'plain' or 'augmented'", merged.matchView);
  if (!isPositiveInteger(merged.batchSize) || merged.batchSize < 2) fail('batchSize', 'an integer >= 2', merged.batchSize);
  if (!isFiniteNumber(merged.learningRate) || merged.learningRate <= 0) fail('learningRate', 'a positive number', merged.learningRate);
  if (!isFiniteNumber(merged.momentum) || merged.momentum < 0 || merged.momentum >= 1) fail('momentum', 'a number in [0, 1)', merged.momentum);
  if (!isFiniteNumber(merged.weightDecay) || merged.weightDecay < 0) fail('weightDecay', 'a number >= 0', merged.weightDecay);
  if (!isPositiveInteger(merged.restarts)) fail('restarts', 'an integer >= 1', merged.restarts);
  if (typeof merged.seed !== 'number' || !Number.isInteger(merged.seed)) fail('seed', 'an integer', merged.seed);
  let imageShape: MmdcConfig['imageShape'];
  if (options.imageShape !== undefined) {
    const s = options.imageShape;
    if (!Array.isArray(s) || s.length !== 3 || !s.every(isPositiveInteger) || (s[2] !== 1 && s[2] !== 3) || s[0] < 4 || s[1] < 4) {
      fail('imageShape', '[height, width, channels] with sides >= 4 and 1 or 3 channels', s);
    }
    imageShape = [s[0], s[1], s[2]];
  }
  return Object.freeze({ ...merged, outputDim, imageShape, widths: [...merged.widths], crops: [...merged.crops] }) as MmdcConfig;
}

/**
 * The image shape of a window of `dim` values per row: the configured one (which must multiply
 * out to dim), else a square of 1 or 3 channels.
 */
export function resolveImageShape(config: MmdcConfig, dim: number): readonly [number, number, number] {
  if (config.imageShape) {
    const [h, w, c] = config.imageShape;
    if (h * w * c !== dim) {
      throw new TemiError('TS_ERR_MMDC_IMAGE_SHAPE', `imageShape [${h}, ${w}, ${c}] holds ${h * w * c} values, but the window's rows have ${dim}`, { where: 'imageShape' });
    }
    return config.imageShape;
  }
  for (const channels of [1, 3]) {
    const side = Math.round(Math.sqrt(dim / channels));
    if (side * side * channels === dim && side >= 4) return [side, side, channels];
  }
  throw new TemiError('TS_ERR_MMDC_IMAGE_SHAPE', `cannot infer a square image of 1 or 3 channels from ${dim} values per row; set imageShape [h, w, c]`, { where: 'imageShape' });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
