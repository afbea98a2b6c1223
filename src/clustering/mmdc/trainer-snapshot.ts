import { TemiError } from '../../runtime/errors.ts';
import { decodeFloat32 } from '../float-codec.ts';
import type { MmdcConfig } from './mmdc-config.ts';
import type { HostTensors } from './mmdc-network.ts';
import { type TrunkLayout, sizeOf, statisticSpecs, trunkLayout } from './trunk-layout.ts';

const SNAPSHOT_FORMAT = 'mmdc-trainer/1';
const INVALID = 'TS_ERR_TRAINER_SNAPSHOT_INVALID';

/** Float32Arrays as the pipeline's snapshot stores them (binary beside snapshot.json); base64 read too. */
type Floats = Float32Array | string;

/** Trainer state: trunk and heads, batch-norm statistics, SGD momentum buffers, counters. */
export interface MmdcTrainerSnapshot {
  readonly format: string;
  readonly trunk: string;
  readonly widths: readonly number[];
  readonly clusters: number;
  readonly outputDim: number;
  readonly progress: { readonly epochs: number; readonly rounds: number; readonly steps: number };
  /** Absent until the first round fixes the image shape. */
  readonly core?: {
    readonly imageShape: readonly number[];
    readonly params: Record<string, Floats>;
    readonly stats: Record<string, Floats>;
    readonly momentum: Record<string, Floats>;
  };
}

export interface CoreState {
  readonly imageShape: readonly [number, number, number];
  readonly params: HostTensors;
  readonly stats: HostTensors;
  readonly momentum: HostTensors;
}

export function writeMmdcSnapshot(config: MmdcConfig, progress: MmdcTrainerSnapshot['progress'], core: CoreState | undefined): MmdcTrainerSnapshot {
  return {
    format: SNAPSHOT_FORMAT,
    trunk: config.trunk,
    widths: [...config.widths],
    clusters: config.clusters,
    outputDim: config.outputDim,
    progress: { ...progress },
    ...(core ? { core: { imageShape: [...core.imageShape], params: core.params, stats: core.stats, momentum: core.momentum } } : {}),
  };
}

/** Reads a snapshot back, refusing one taken with another network shape (it names the field). */
export function readMmdcSnapshot(state: unknown, config: MmdcConfig): { progress: { epochs: number; rounds: number; steps: number }; core?: CoreState & { layout: TrunkLayout } } {
  const s = state as Partial<MmdcTrainerSnapshot> | null;
  if (!s || s.format !== SNAPSHOT_FORMAT) throw new TemiError(INVALID, `expected format '${SNAPSHOT_FORMAT}', found '${String(s?.format)}'`, { where: 'format' });
  const expect = (where: string, found: unknown, wanted: unknown): void => {
    if (JSON.stringify(found) !== JSON.stringify(wanted)) {
      throw new TemiError(INVALID, `the snapshot was taken with ${where} ${JSON.stringify(found)}, this trainer has ${JSON.stringify(wanted)}`, { where });
    }
  };
  expect('trunk', s.trunk, config.trunk);
  expect('widths', s.widths, config.widths);
  expect('clusters', s.clusters, config.clusters);
  expect('outputDim', s.outputDim, config.outputDim);
  const p = s.progress;
  const counter = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!p || !counter(p.epochs) || !counter(p.rounds) || !counter(p.steps)) throw new TemiError(INVALID, 'expected progress counters', { where: 'progress' });
  const progress = { epochs: p.epochs, rounds: p.rounds, steps: p.steps };
  if (!s.core) return { progress };
  const shape = s.core.imageShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(counter)) throw new TemiError(INVALID, 'expected [h, w, c]', { where: 'core.imageShape' });
  const imageShape = [shape[0], shape[1], shape[2]] as const;
  if (config.imageShape) expect('imageShape', imageShape, config.imageShape);
  const layout = trunkLayout(config.trunk, imageShape, config.widths, config.outputDim);
  const read = (group: 'params' | 'momentum', name: string, size: number): Float32Array => decodeFloat32(s.core![group]?.[name], size, `core.${group}.${name}`, INVALID);
  const params: HostTensors = {};
  const momentum: HostTensors = {};
  for (const spec of layout.parameters) {
    params[spec.name] = read('params', spec.name, sizeOf(spec.shape));
    momentum[spec.name] = read('momentum', spec.name, sizeOf(spec.shape));
  }
  const stats: HostTensors = {};
  for (const st of statisticSpecs(layout)) stats[st.name] = decodeFloat32(s.core.stats?.[st.name], st.size, `core.stats.${st.name}`, INVALID);
  return { progress, core: { layout, imageShape, params, stats, momentum } };
}
