/**
 * A TEMI trace: everything random a training run starts from and sees, written by one
 * implementation so the other can replay it. Same format both ways:
 *   bench/reference/export-temi-trace.ts          the tfjs trainer's draws -> PyTorch (--trace DIR)
 *   temi_torch_quality.py --export-trace DIR      PyTorch's draws -> the tfjs trainer (recordedDraws)
 * Files: manifest.json, <w1|b1|w2|b2|v|g>.f32 (the student's initial parameters in the tfjs
 * trainer's batched layout, head-layout.ts), rows.i32 (epochs x stepsPerEpoch x 2B row indices:
 * the anchors, then one neighbour of each), neighbours.i32 (count x k, the kNN table mined).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NeighbourTable } from '../../src/clustering/contracts.ts';
import { type HeadDimensions, PARAMETER_NAMES, type ParameterName, parameterSpecs, sizeOf } from '../../src/clustering/temi/head-layout.ts';
import type { PairSchedule, TemiDraws } from '../../src/clustering/temi/temi-draws.ts';

export interface TemiTraceManifest extends HeadDimensions {
  readonly k: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly batch: number;
  readonly seed: number;
  readonly count: number;
  /** Which implementation drew it (informational). */
  readonly source?: string;
}

export interface TemiTrace {
  readonly manifest: TemiTraceManifest;
  readonly initial: Record<ParameterName, Float32Array>;
  readonly rows: Int32Array;
  readonly neighbours: NeighbourTable;
}

export function writeTemiTrace(directory: string, trace: TemiTrace): void {
  mkdirSync(directory, { recursive: true });
  const write = (name: string, array: Float32Array | Int32Array): void =>
    writeFileSync(join(directory, name), new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  for (const name of PARAMETER_NAMES) write(`${name}.f32`, trace.initial[name]);
  write('rows.i32', trace.rows);
  write('neighbours.i32', trace.neighbours.indices);
  writeFileSync(join(directory, 'manifest.json'), JSON.stringify(trace.manifest, null, 1));
}

export function readTemiTrace(directory: string): TemiTrace {
  const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as TemiTraceManifest;
  const read = <T extends Float32Array | Int32Array>(name: string, make: (b: ArrayBuffer) => T, expected: number): T => {
    const bytes = readFileSync(join(directory, name));
    const array = make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (array.length !== expected) throw new Error(`${join(directory, name)}: expected ${expected} values for the manifest's shapes, found ${array.length}`);
    return array;
  };
  const specs = parameterSpecs(manifest);
  const initial = Object.fromEntries(
    PARAMETER_NAMES.map((name) => [name, read(`${name}.f32`, (b) => new Float32Array(b), sizeOf(specs[name].shape))]),
  ) as Record<ParameterName, Float32Array>;
  const rows = read('rows.i32', (b) => new Int32Array(b), manifest.epochs * manifest.stepsPerEpoch * 2 * manifest.batch);
  const indices = read('neighbours.i32', (b) => new Int32Array(b), manifest.count * manifest.k);
  return { manifest, initial, rows, neighbours: { k: manifest.k, indices } };
}

/**
 * The trace's draws as a TemiTrainer's: its initial heads, then its steps epoch by epoch across
 * rounds. A trainer whose shapes, window or batch differ from the trace's is refused by name.
 */
export function recordedDraws(trace: TemiTrace): TemiDraws {
  const m = trace.manifest;
  const stepRows = 2 * m.batch;
  let epochsReplayed = 0;
  const mismatch = (what: string, expected: number, found: number): Error => new Error(`the trace was recorded with ${what} ${expected}, found ${found}`);
  const schedule: PairSchedule = {
    stepsPerEpoch: () => m.stepsPerEpoch,
    epochSteps: (batchSize) => {
      if (batchSize !== m.batch) throw mismatch('batch size', m.batch, batchSize);
      if (epochsReplayed >= m.epochs) throw new Error(`the trace holds ${m.epochs} epochs, and epoch ${epochsReplayed + 1} was asked for`);
      const first = epochsReplayed * m.stepsPerEpoch;
      epochsReplayed += 1;
      return Array.from({ length: m.stepsPerEpoch }, (_, s) => trace.rows.subarray((first + s) * stepRows, (first + s + 1) * stepRows));
    },
  };
  return {
    initialHeads: (dims) => {
      for (const key of ['heads', 'dim', 'hidden', 'bottleneck', 'clusters'] as const) {
        if (dims[key] !== m[key]) throw mismatch(key, m[key], dims[key]);
      }
      return Object.fromEntries(PARAMETER_NAMES.map((name) => [name, trace.initial[name].slice()])) as Record<ParameterName, Float32Array>;
    },
    pairs: (_neighbours, count) => {
      if (count !== m.count) throw mismatch('a window of', m.count, count);
      return schedule;
    },
  };
}
