/**
 * The tfjs MMDC trainer's draws, recorded as it makes them, for the PyTorch reference to replay
 * (bench/reference/mmdc_torch.py --trace DIR): the initial parameters (TensorFlow layouts, layout
 * order), the targets, and every epoch's order and views, in the order the trainer asked for them.
 * With identical inputs the two implementations' per-epoch losses and clusters can be compared
 * directly (test/clustering/mmdc-pytorch-parity.spec.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MmdcConfig, type MmdcDraws, SEEDED_MMDC_DRAWS, type ViewParameters } from '../../src/clustering/mmdc/index.ts';

const VIEW_FIELDS = ['angle', 'crop', 'offsetX', 'offsetY', 'flip', 'brightness', 'contrast'] as const;

export class RecordingMmdcDraws implements MmdcDraws {
  readonly params: Float32Array[] = [];
  readonly targetDraws: Float32Array[] = [];
  readonly orders: Int32Array[] = [];
  readonly viewDraws: ViewParameters[] = [];

  constructor(private readonly inner: MmdcDraws = SEEDED_MMDC_DRAWS) {}

  initialParameters(...args: Parameters<MmdcDraws['initialParameters']>): Record<string, Float32Array> {
    const values = this.inner.initialParameters(...args);
    for (const spec of args[0].parameters) this.params.push(values[spec.name]);
    return values;
  }

  targets(...args: Parameters<MmdcDraws['targets']>): Float32Array {
    const targets = this.inner.targets(...args);
    this.targetDraws.push(targets.slice());
    return targets;
  }

  order(...args: Parameters<MmdcDraws['order']>): Int32Array {
    const order = this.inner.order(...args);
    this.orders.push(order.slice());
    return order;
  }

  views(...args: Parameters<MmdcDraws['views']>): ViewParameters {
    const views = this.inner.views(...args);
    this.viewDraws.push(views);
    return views;
  }
}

function concatFloat32(parts: ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(Array.from(p), offset);
    offset += p.length;
  }
  return out;
}

/** Writes manifest.json (config, epochs, count) and the draws as raw little-endian files. */
export function writeMmdcTrace(directory: string, draws: RecordingMmdcDraws, config: MmdcConfig, epochs: number, count: number): void {
  mkdirSync(directory, { recursive: true });
  const manifest = { source: 'tfjs', count, epochs, config: { ...config, imageShape: undefined } };
  writeFileSync(join(directory, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const bytes = (a: Float32Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(join(directory, 'params.f32'), bytes(concatFloat32(draws.params)));
  writeFileSync(join(directory, 'targets.f32'), bytes(concatFloat32(draws.targetDraws)));
  const orders = new Int32Array(draws.orders.reduce((n, o) => n + o.length, 0));
  let offset = 0;
  for (const o of draws.orders) {
    orders.set(o, offset);
    offset += o.length;
  }
  writeFileSync(join(directory, 'orders.i32'), bytes(orders));
  writeFileSync(join(directory, 'views.f32'), bytes(concatFloat32(draws.viewDraws.flatMap((v) => VIEW_FIELDS.map((f) => v[f])))));
}
