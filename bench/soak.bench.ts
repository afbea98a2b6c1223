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
 *
 * With --pipeline it runs a pipeline file instead (its sink and state go to a temporary folder),
 * e.g. the demo over Fashion-MNIST's 60,000-image train split:
 *
 *   npm run bench:soak -- --pipeline pipelines/fashion-mnist.json --split train
 *
 * Either way it ends with what the state costs: the snapshots' size and save times, the state
 * directory against the raw bytes of the embeddings and graph the index holds (target <= 2x),
 * and the process's peak RSS, worker threads included (target for the 60k run: < 1 GiB).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tap } from 'rxjs';
import { countedSource } from './counted-source.ts';
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
    pipeline: { type: 'string' },
    split: { type: 'string', default: 'as-is' },
  },
});
const PIPELINE = values.pipeline;
if (values.split !== 'as-is' && values.split !== 'train' && values.split !== 'test') throw new Error(`--split is train, test or as-is, got ${values.split}`);
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
    return countedSource({
      count: config.count,
      // Let the downstream stages and timers run between bursts.
      yieldEvery: 256,
      record: (i) => {
        const { data, label } = synthesise(i);
        return deps.records.create({ key: `synth-${i}`, payload: { rawPixels: { width: SIDE, height: SIDE, channels: 1, data } }, label, origin: { source: instanceName, position: i } });
      },
      afterEach: () => emitted++,
    });
  },
});

/** Counts records for the samples when the source is a pipeline's own (the synthetic one counts itself). */
const countingTap = definePlugin({
  name: 'soak-count',
  kind: 'stage',
  description: 'Bench stage: counts the records passing.',
  configSchema: s.object({}),
  deps: {},
  create: () => ({
    operator: (input) => input.pipe(tap(() => emitted++)),
  }),
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
const spec = PIPELINE ? await pipelineUnderTest(PIPELINE, values.split!) : syntheticPipeline();
const expected = PIPELINE ? undefined : RECORDS;
console.log(
  PIPELINE
    ? `soak: ${PIPELINE} (split ${values.split}), node ${process.version}`
    : `soak: ${RECORDS.toLocaleString('en')} records, trainer ${values.trainer}, warm-up ${WARMUP.toLocaleString('en')}, node ${process.version}, tf backend ${tf.getBackend() ?? '(set at start)'}`,
);
let warm: Sample | undefined;
const timer = setInterval(() => {
  const point = sample();
  if (!warm && point.records >= (expected === undefined ? 1 : WARMUP)) warm = point;
}, SAMPLE_MS);
const { summary, run } = await runForTest(spec, dir, [synthSource, countingTap]);
clearInterval(timer);
const last = sample();
warm ??= samples[0];
const after = samples.filter((p) => p.records >= warm!.records);
const peak = Math.max(...after.map((p) => p.rssMiB));
console.log(`\ndone: ${summary.records.toLocaleString('en')} records, ${summary.written.toLocaleString('en')} written, ${summary.deadLettered} dead-lettered in ${summary.seconds.toFixed(1)} s (${(summary.records / summary.seconds).toFixed(0)} records/s)`);
console.log(`RSS at warm-up (${warm.records.toLocaleString('en')} records): ${warm.rssMiB.toFixed(0)} MiB; at the end: ${last.rssMiB.toFixed(0)} MiB; peak after warm-up: ${peak.toFixed(0)} MiB`);
const growth = (last.rssMiB - warm.rssMiB) / warm.rssMiB;
console.log(`RSS growth after warm-up: ${(growth * 100).toFixed(1)}% (target < 10%) -> ${growth < 0.1 ? 'PASS' : 'FAIL'}; tensors at warm-up ${warm.tensors}, at the end ${last.tensors}`);
await reportState(join(dir, 'state'), run.snapshots?.lastSave, run.snapshots?.history);
const peakRss = process.resourceUsage().maxRSS * 1024;
console.log(`peak RSS (getrusage, main and worker threads): ${mib(peakRss).toFixed(0)} MiB${PIPELINE && values.split === 'train' ? ` (target for the 60k train split < 1024 MiB) -> ${peakRss < 1024 ** 3 ? 'PASS' : 'FAIL'}` : ''}`);
await rm(dir, { recursive: true, force: true });

/** The synthetic run: the soak source through a bounded window and periodic training. */
function syntheticPipeline(): Record<string, unknown> {
  return {
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
  };
}

/**
 * A pipeline file as shipped, with its sink and state in the bench's folder, a counting stage
 * first (for the samples), and with --split the Fashion-MNIST split swapped in.
 */
async function pipelineUnderTest(file: string, split: string): Promise<Record<string, unknown>> {
  const spec = JSON.parse(await readFile(resolve(file), 'utf8')) as Record<string, any>;
  delete spec.$schema;
  const idx = spec.source?.with?.idx as { images: string; labels: string } | undefined;
  if (split !== 'as-is') {
    if (!idx) throw new Error(`--split needs a files source reading IDX files; ${file} has none`);
    const prefix = split === 'train' ? 'train' : 't10k';
    idx.images = idx.images.replace(/(train|t10k)-images/, `${prefix}-images`);
    idx.labels = idx.labels.replace(/(train|t10k)-labels/, `${prefix}-labels`);
  }
  spec.stages = [{ use: 'soak-count' }, ...(spec.stages ?? [])];
  spec.sink = { use: 'jsonl', with: { path: join(dir, 'labels.jsonl') } };
  spec.state = { ...spec.state, dir: join(dir, 'state') };
  spec.runtime = { ...spec.runtime, progress: 'off', logLevel: 'warn' };
  return spec;
}

async function filesUnder(root: string, prefix = ''): Promise<Array<{ path: string; bytes: number }>> {
  const out: Array<{ path: string; bytes: number }> = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true }).catch(() => [])) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(root, path)));
    else out.push({ path, bytes: (await stat(join(root, path))).size });
  }
  return out;
}

/** Rows and dimensions the saved index holds, from its sidecar's header ("TSIDXv01" | u32 length | JSON). */
function indexShape(stateDir: string): { rows: number; dim: number } | undefined {
  let fd: number;
  try {
    fd = openSync(join(stateDir, 'index', 'index.sidecar'), 'r');
  } catch {
    return undefined;
  }
  try {
    const prefix = Buffer.alloc(12);
    readSync(fd, prefix, 0, 12, 0);
    const header = Buffer.alloc(prefix.readUInt32LE(8));
    readSync(fd, header, 0, header.length, 12);
    const parsed = JSON.parse(header.toString('utf8')) as { size: number; config: { dimensions: number } };
    return { rows: parsed.size, dim: parsed.config.dimensions };
  } finally {
    closeSync(fd);
  }
}

async function reportState(stateDir: string, last: { seconds: number; bytes: number; blobBytesWritten: number } | undefined, history: { saves: number; slowestSeconds: number; slowestSave?: { slowestMember?: { name: string; seconds: number } }; skippedTicks: number } | undefined): Promise<void> {
  const files = await filesUnder(stateDir);
  const sum = (test: (path: string) => boolean) => files.filter((f) => test(f.path)).reduce((total, f) => total + f.bytes, 0);
  const total = sum(() => true);
  const graph = sum((p) => p.startsWith('index/graph-'));
  const sidecar = sum((p) => p === 'index/index.sidecar');
  const snapshots = sum((p) => p.startsWith('snapshot') || p.startsWith('blobs/'));
  const models = sum((p) => p.startsWith('models/'));
  if (last && history) {
    const member = history.slowestSave?.slowestMember;
    console.log(`snapshots: ${history.saves} saves, slowest ${history.slowestSeconds.toFixed(2)} s${member ? ` (of which ${member.name}'s snapshot() ${member.seconds.toFixed(2)} s)` : ''}, final ${last.seconds.toFixed(2)} s (${mib(last.bytes).toFixed(1)} MiB: snapshot.json + its blobs, ${mib(last.blobBytesWritten).toFixed(1)} MiB of blobs written), ${history.skippedTicks} periodic ticks skipped while a save ran`);
  }
  console.log(`state directory: ${mib(total).toFixed(1)} MiB = index graph ${mib(graph).toFixed(1)} + index sidecar ${mib(sidecar).toFixed(1)} + snapshots (current and previous, blobs) ${mib(snapshots).toFixed(1)} + models ${mib(models).toFixed(1)} + other ${mib(total - graph - sidecar - snapshots - models).toFixed(1)} MiB; largest file ${mib(Math.max(0, ...files.map((f) => f.bytes))).toFixed(1)} MiB`);
  const shape = indexShape(stateDir);
  if (!shape) return;
  const embeddings = shape.rows * shape.dim * 4;
  const raw = embeddings + graph;
  console.log(
    `raw bytes the index holds: embeddings ${shape.rows.toLocaleString('en')} x ${shape.dim} x 4 B = ${mib(embeddings).toFixed(1)} MiB, graph ${mib(graph).toFixed(1)} MiB; state / (embeddings + graph) = ${(total / raw).toFixed(2)}x (target <= 2) -> ${total <= 2 * raw ? 'PASS' : 'FAIL'}; state / embeddings alone = ${(total / embeddings).toFixed(2)}x`,
  );
}
