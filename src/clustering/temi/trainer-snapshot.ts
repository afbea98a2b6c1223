import { TemiError } from '../../runtime/errors.ts';
import type { AdamW, AdamWSlotState } from './adamw.ts';
import { decodeFloat32 } from '../float-codec.ts';
import { type HeadDimensions, PARAMETER_NAMES, type ParameterName, headDimensions, parameterSpecs, sizeOf } from './head-layout.ts';
import type { HeadNetwork } from './head-network.ts';
import type { Standardization } from './standardization.ts';
import type { TemiConfig } from './temi-config.ts';

const SNAPSHOT_FORMAT = 'temi-trainer/1';

/**
 * Float32Array copies: the pipeline's snapshot writes them as raw bytes beside snapshot.json (a
 * 16-head TEMI state is ~140 MB of floats; as base64 in the JSON it was 183 MB, written twice a
 * save). base64 strings are what snapshots written before that hold; restore reads both.
 */
type Floats = Float32Array | string;
type EncodedParameters = Record<ParameterName, Floats>;

/** Trainer state: heads, teacher, optimiser moments, marginals, counters (numbers and Float32Arrays). */
export interface TemiTrainerSnapshot {
  readonly format: string;
  readonly heads: number;
  readonly clusters: number;
  readonly hidden: number;
  readonly bottleneck: number;
  readonly progress: { readonly epochs: number; readonly rounds: number; readonly steps: number };
  /** Absent until the first round fixes the input dimension. */
  readonly core?: {
    readonly dim: number;
    readonly student: EncodedParameters;
    readonly teacher: EncodedParameters;
    readonly marginal: Floats;
    readonly optimiser: Record<ParameterName, { readonly firstMoment: Floats; readonly secondMoment: Floats; readonly steps: number }>;
    readonly mean?: Floats;
    readonly std?: Floats;
  };
}

export interface DecodedTrainerState {
  readonly progress: { epochs: number; rounds: number; steps: number };
  readonly core?: {
    readonly dim: number;
    readonly student: Record<ParameterName, Float32Array>;
    readonly teacher: Record<ParameterName, Float32Array>;
    readonly marginal: Float32Array;
    readonly optimiser: Record<ParameterName, AdamWSlotState>;
    readonly standardization?: Standardization;
  };
}

interface LiveCore {
  readonly dims: HeadDimensions;
  readonly network: HeadNetwork;
  readonly optimiser: AdamW;
  readonly standardization: Standardization | undefined;
}

export function writeTrainerSnapshot(config: TemiConfig, progress: DecodedTrainerState['progress'], core: LiveCore | undefined): TemiTrainerSnapshot {
  const base = {
    format: SNAPSHOT_FORMAT,
    heads: config.heads,
    clusters: config.clusters,
    hidden: config.hidden,
    bottleneck: config.bottleneck,
    progress: { ...progress },
  };
  if (!core) return base;
  const encode = (vars: HeadNetwork['student']): EncodedParameters =>
    Object.fromEntries(PARAMETER_NAMES.map((name) => [name, copy(vars[name].dataSync() as Float32Array)])) as EncodedParameters;
  const moments = core.optimiser.exportState();
  return {
    ...base,
    core: {
      dim: core.dims.dim,
      student: encode(core.network.student),
      teacher: encode(core.network.teacher),
      marginal: copy(core.network.marginal.dataSync() as Float32Array),
      optimiser: Object.fromEntries(
        PARAMETER_NAMES.map((name) => [
          name,
          { firstMoment: copy(moments[name].firstMoment), secondMoment: copy(moments[name].secondMoment), steps: moments[name].steps },
        ]),
      ) as NonNullable<TemiTrainerSnapshot['core']>['optimiser'],
      ...(core.standardization ? { mean: copy(core.standardization.mean), std: copy(core.standardization.std) } : {}),
    },
  };
}

/** A copy the snapshot owns: tensor data and live standardisation arrays change with the next step. */
function copy(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values);
}

function invalid(message: string, where: string): TemiError {
  return new TemiError('TS_ERR_TEMI_STATE_INVALID', message, { where });
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid(`expected a count, found ${JSON.stringify(value)}`, where);
  return value;
}

/** Checks a snapshot against this trainer's configuration and decodes it; throws TS_ERR_TEMI_STATE_INVALID. */
export function readTrainerSnapshot(state: unknown, config: TemiConfig): DecodedTrainerState {
  const s = state as Partial<TemiTrainerSnapshot> | null;
  if (!s || typeof s !== 'object' || s.format !== SNAPSHOT_FORMAT) throw invalid(`expected format '${SNAPSHOT_FORMAT}'`, 'format');
  for (const key of ['heads', 'clusters', 'hidden', 'bottleneck'] as const) {
    if (s[key] !== config[key]) throw invalid(`this trainer is configured with ${key}=${config[key]}, the snapshot has ${JSON.stringify(s[key])}`, key);
  }
  const progress = {
    epochs: count(s.progress?.epochs, 'progress.epochs'),
    rounds: count(s.progress?.rounds, 'progress.rounds'),
    steps: count(s.progress?.steps, 'progress.steps'),
  };
  if (!s.core) return { progress };
  const dim = count(s.core.dim, 'core.dim');
  const dims = headDimensions(config, dim);
  const specs = parameterSpecs(dims);
  const decode = (encoded: EncodedParameters | undefined, where: string): Record<ParameterName, Float32Array> =>
    Object.fromEntries(
      PARAMETER_NAMES.map((name) => [name, decodeFloat32(encoded?.[name], sizeOf(specs[name].shape), `${where}.${name}`)]),
    ) as Record<ParameterName, Float32Array>;
  const optimiser = Object.fromEntries(
    PARAMETER_NAMES.map((name) => {
      const slot = s.core!.optimiser?.[name];
      const n = sizeOf(specs[name].shape);
      const where = `core.optimiser.${name}`;
      return [
        name,
        {
          firstMoment: decodeFloat32(slot?.firstMoment, n, `${where}.firstMoment`),
          secondMoment: decodeFloat32(slot?.secondMoment, n, `${where}.secondMoment`),
          steps: count(slot?.steps, `${where}.steps`),
        },
      ];
    }),
  ) as Record<ParameterName, AdamWSlotState>;
  const standardization =
    s.core.mean !== undefined || s.core.std !== undefined
      ? { mean: decodeFloat32(s.core.mean, dim, 'core.mean'), std: decodeFloat32(s.core.std, dim, 'core.std') }
      : undefined;
  return {
    progress,
    core: {
      dim,
      student: decode(s.core.student, 'core.student'),
      teacher: decode(s.core.teacher, 'core.teacher'),
      marginal: decodeFloat32(s.core.marginal, config.heads * config.clusters, 'core.marginal'),
      optimiser,
      standardization,
    },
  };
}
