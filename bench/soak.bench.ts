/**
 * Soak bench: N small records (default 1,000,000) through a synthetic source -> decode ->
 * pixels-embed -> index (bounded window) -> train (k-means, periodic) -> assign -> jsonl, printing
 * RSS, V8 heap and tf.memory().numTensors over time, then the RSS growth after warm-up
 * (target < 10%). The source is a plugin written against the public contract: 28x28 grayscale
 * images synthesised deterministically (10 prototype shapes + seeded noise), so no 1M-line file.
 *
 *   npm run bench:soak                      # 1,000,000 records
 *   npm run bench:soak -- --records 200000
 *   npm run bench:soak -- --records 200000 --trainer temi   # TF.js training: tensors must not leak
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Observable } from 'rxjs';
import { definePlugin } from '../src/runtime/contracts/plugin.ts';
import { services } from '../src/runtime/contracts/services.ts';
import { s } from '../src/runtime/schema/schema.ts';
import { tf } from '../src/tf/tf.ts';
import { runForTest, tempDir } from '../test/support/pipeline-harness.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'sample-seconds': { type: 'string', default: '10' },
    'warmup-fraction': { type: 'string', default: '0.2' },
    trainer: { type: 'string', default: 'kmeans' },
  },
});
const RECORDS = Number(values.records);
const SAMPLE_MS = Number(values['sample-seconds']) * 1000;
const WARMUP = Math.max(1, Math.floor(RECORDS * Number(values['warmup-fraction'])));
const SIDE = 28;

/** Class c's prototype: a bright bar whose angle and offset depend on c; noise varies per record. */
function synthesise(i: number): { data: Uint8Array; label: number } {
  const label = i % 10;
  const data = new Uint8Array(SIDE * SIDE);
  const angle = (label * Math.PI) / 10;
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  let noise = (Math.imul(i, 2654435761) ^ 0x9e3779b9) >>> 0;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      noise = (Math.imul(noise ^ (noise >>> 13), 1274126177) + 1) >>> 0;
      const distance = Math.abs((x - 14) * dy - (y - 14) * dx + (label % 3) * 3 - 3);
      data[y * SIDE + x] = Math.min(255, Math.max(0, (distance < 3 ? 220 : 20) + (noise % 50) - 25));
    }
  }
  return { data, label };
}

let emitted = 0;

const synthSource = definePlugin({
  name: 'soak-synth',
  kind: 'source',
  description: 'Bench source: `count` deterministic 28x28 grayscale images with labels 0-9.',
  configSchema: s.object({ count: s.integer({ min: 1 }) }),
  deps: { records: services.records },
  create({ config, deps, instanceName }) {
    let closed = false;
    return {
      expectedCount: config.count,
      close() {
        closed = true;
      },
      open: (flow) =>
        new Observable((subscriber) => {
          (async () => {
            for (let i = 0; i < config.count && !closed; i++) {
              if (flow.paused) await flow.whenReady();
              const { data, label } = synthesise(i);
              subscriber.next(deps.records.create({ key: `synth-${i}`, payload: { rawPixels: { width: SIDE, height: SIDE, channels: 1, data } }, label, origin: { source: instanceName, position: i } }));
              emitted++;
              // Let the downstream stages and timers run between bursts.
              if (i % 256 === 255) await new Promise((r) => setImmediate(r));
            }
          })().then(() => subscriber.complete(), (error) => subscriber.error(error));
        }),
    };
  },
});

interface Sample {
  readonly seconds: number;
  readonly records: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly tensors: number;
}

const mib = (bytes: number) => bytes / 1024 / 1024;
const samples: Sample[] = [];
const started = performance.now();
const sample = (): Sample => {
  const m = process.memoryUsage();
  const point = { seconds: (performance.now() - started) / 1000, records: emitted, rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed), tensors: tf.memory().numTensors };
  samples.push(point);
  console.log(`${point.seconds.toFixed(0).padStart(6)} s ${String(point.records).padStart(9)} records  rss ${point.rssMiB.toFixed(0).padStart(5)} MiB  heap ${point.heapMiB.toFixed(0).padStart(5)} MiB  tensors ${point.tensors}`);
  return point;
};

const dir = await tempDir('temi-soak-');
console.log(`soak: ${RECORDS.toLocaleString('en')} records, trainer ${values.trainer}, warm-up ${WARMUP.toLocaleString('en')}, node ${process.version}, tf backend ${tf.getBackend() ?? '(set at start)'}`);
let warm: Sample | undefined;
const timer = setInterval(() => {
  const point = sample();
  if (!warm && point.records >= WARMUP) warm = point;
}, SAMPLE_MS);
const { summary } = await runForTest(
  {
    name: 'soak',
    source: { use: 'soak-synth', with: { count: RECORDS } },
    stages: [
      { use: 'decode', with: { preset: 'mnist', concurrency: 2 } },
      { use: 'pixels-embed', with: { projection: 'random', dim: 64, l2normalize: true } },
      { use: 'index', with: { metric: 'cos', capacity: 20_000, policy: 'window' } },
      // Many rounds over a long stream, not quality: TEMI gets tiny rounds (2 heads, 2,000 rows).
      { use: 'train', with: { trainer: values.trainer, clusters: 10, firstRoundAt: 2_000, everyRecords: 50_000, k: 10, ...(values.trainer === 'temi' ? { epochs: 1, maxRows: 2_000, heads: 2 } : { epochs: 2 }) } },
      { use: 'assign', with: { beforeFirstModel: 'unassigned' } },
    ],
    sink: { use: 'jsonl', with: { path: join(dir, 'labels.jsonl') } },
    state: { dir: join(dir, 'state') },
    runtime: { maxInFlight: 4096 },
  },
  dir,
  [synthSource],
);
clearInterval(timer);
const last = sample();
warm ??= samples[0];
const after = samples.filter((p) => p.records >= warm!.records);
const peak = Math.max(...after.map((p) => p.rssMiB));
console.log(`\ndone: ${summary.records.toLocaleString('en')} records, ${summary.written.toLocaleString('en')} written, ${summary.deadLettered} dead-lettered in ${summary.seconds.toFixed(1)} s (${(summary.records / summary.seconds).toFixed(0)} records/s)`);
console.log(`RSS at warm-up (${warm.records.toLocaleString('en')} records): ${warm.rssMiB.toFixed(0)} MiB; at the end: ${last.rssMiB.toFixed(0)} MiB; peak after warm-up: ${peak.toFixed(0)} MiB`);
const growth = (last.rssMiB - warm.rssMiB) / warm.rssMiB;
console.log(`RSS growth after warm-up: ${(growth * 100).toFixed(1)}% (target < 10%) -> ${growth < 0.1 ? 'PASS' : 'FAIL'}; tensors at warm-up ${warm.tensors}, at the end ${last.tensors}`);
await rm(dir, { recursive: true, force: true });
