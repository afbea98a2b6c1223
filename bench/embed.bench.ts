/**
 * MobileNetV2-224 embedding throughput per TensorFlow.js backend, and against the same
 * architecture in PyTorch on the same CPU.
 *
 *   npm run bench:embed [-- --seconds 6 --backends tensorflow-gpu,tensorflow,wasm,cpu --batches 1,16,64 --no-torch --no-onnx --onnx-provider cpu|cuda --full-cpu --no-pipeline --pipeline-input raw,jpeg,photo --pipeline-repeats 3 --host-path --decode-threads N --eager --thread-cpu --json FILE]
 *
 * Model: the built-in MobileNetV2 (nsfwjs weights) cut at its global average pool, 1280-d, as the
 * embed stage runs it (TfEmbedder: host copy in, forward pass, rows copied out). On the native
 * backends that is one TensorFlow session per batch (the LayersModel written as a frozen
 * SavedModel, see src/embedding/layers-saved-model.ts); --eager adds the layer-by-layer
 * LayersModel rows ("tfjs <backend> eager") for comparison. Input: random
 * 224x224x3 images. Each configuration: one warm-up batch, then batches until --seconds have
 * passed (at least one). The cpu backend is the pure-JS fallback and needs ~2 s an image, so its
 * batch 64 runs only with --full-cpu.
 * FLOPs: 300 M multiply-accumulates per 224 px image (the MobileNetV2 paper's figure) = 0.6 GFLOP.
 * PyTorch: bench/reference/embed_torch.py (hand-written MobileNetV2, random weights, eval mode,
 * no_grad) with 2 threads via /usr/bin/python3, where it can import torch.
 * ONNX Runtime: that PyTorch model exported to ONNX (bench/reference/export_onnx.py, into
 * .cache/bench) and run through OnnxEmbedder as the embed stage runs it (NCHW float32, the same
 * 2 intra-op threads as PyTorch; batch norm folded by the exporter), and the same graph in
 * float16 throughout (--fp16 of export_onnx.py). --onnx-provider cuda runs them
 * on ONNX Runtime's CUDA provider (scripts/onnx/setup-cuda.sh, then source .cache/onnx/gpu/env.sh).
 *
 * PyTorch references: PyPI's torch from `npm run setup:reference` (.cache/reference-venv; MKL,
 * oneDNN) is THE reference every "ratio to PyTorch" is taken against; Debian's python3-torch
 * (generic BLAS) is timed too where present and printed as its own rows.
 *
 * Pipeline: with the first tfjs backend, the real pipeline runtime runs source -> decode (preset
 * mobilenet-v2) -> embed (the model on its worker thread, batch b) -> sink, and the images/s
 * between the end of the second batch and the last record are set against the bare model's
 * images/s at the same batch, timed right before and right after (their mean). This runs
 * --pipeline-repeats times (default 3), alternating with the bare model, and the median ratio is
 * the figure (all of them are printed): on a shared 2-core machine one window moves 2x. Inputs
 * (--pipeline-input, default raw,jpeg): raw, 224x224 RGB bytes (payload.rawPixels: decode only
 * scales them to floats); jpeg, 256x256 random-noise JPEGs (the decode stage's fast path, or sharp
 * without the native addon, decodes them and crops them to 224; noise is a JPEG decoder's worst
 * case); photo, 320x240 photo-like JPEGs (bench:decode's), as a camera thumbnail decodes.
 * --no-pipeline skips it. --host-path adds the same pipeline with a near-free model: the images/s
 * the pipeline's own thread can feed a model.
 * --decode-threads N sets the decode stage's `threads` in both (default: the stage's own).
 * --thread-cpu prints, after each bare and pipeline run, the CPU ms per image of this process'
 * busiest threads (thread-cpu.ts, Linux): TensorFlow's pool, the pipeline's thread, the embed
 * worker, V8's helper threads (garbage collection). Threads that ended before the reading (a
 * pipeline's decode and embed workers, stopped with it) are not in it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MOBILENET_V2_MACS } from '../src/embedding/nsfwjs-models.ts';
import { PYTORCH_THREADS, REFERENCE_WAIT_POLICIES, option, runReference, torchReferences, torchUnavailable, type TorchReference } from './bench-support.ts';
import sharp from 'sharp';
import { photoLike } from './bench-images.ts';
import { tap } from 'rxjs';
import { countedSource } from './counted-source.ts';
import { definePlugin } from '../src/runtime/contracts/plugin.ts';
import { services } from '../src/runtime/contracts/services.ts';
import { s } from '../src/runtime/schema/schema.ts';
import { runForTest, tempDir } from '../test/support/pipeline-harness.ts';
import { rm } from 'node:fs/promises';
import { OnnxEmbedder, type OnnxExecutionProvider } from '../src/embedding/onnx/onnx-embedder.ts';
import { TfEmbedder, type ModelSpec } from '../src/embedding/tf-embedder.ts';
import type { Embedder } from '../src/embedding/embedder.ts';
import type { DecodedPixels } from '../src/runtime/contracts/record.ts';
import { SeededRandom } from '../src/numeric/seeded-random.ts';
import { BACKEND_PREFERENCE, loadBackend, type BackendName } from '../src/tf/backends.ts';
import { tf } from '../src/tf/tf.ts';
import { threadDelta, threadTimes } from './thread-cpu.ts';

const GFLOP_PER_IMAGE = (2 * MOBILENET_V2_MACS) / 1e9;

const targetSeconds = Number(option('seconds', '6'));
const backends = option('backends', BACKEND_PREFERENCE.join(',')).split(',') as BackendName[];
const batchSizes = option('batches', '1,16,64').split(',').map(Number);
const runTorch = !process.argv.includes('--no-torch');
const runOnnx = !process.argv.includes('--no-onnx');
const onnxProvider = option('onnx-provider', 'cpu') as OnnxExecutionProvider;
const fullCpu = process.argv.includes('--full-cpu');
const runPipeline = !process.argv.includes('--no-pipeline');
const pipelineInputs = option('pipeline-input', 'raw,jpeg').split(',') as BenchInput[];
const pipelineRepeats = Math.max(1, Number(option('pipeline-repeats', '3')));
const eagerRows = process.argv.includes('--eager');
const hostPathRows = process.argv.includes('--host-path');
/** The decode stage's `threads` in the pipeline rows; its own default when not given. */
const decodeThreads = option('decode-threads', '');
const jsonFile = option('json', '');
const threadCpu = process.argv.includes('--thread-cpu');

interface Row {
  readonly engine: string;
  readonly batch: number;
  readonly imagesPerSecond?: number;
  readonly batches?: number;
  readonly note?: string;
  /** Pipeline rows: the bare model's images/s around the pipeline run. */
  readonly bare?: number;
  /** Pipeline rows: pipeline / bare of every run, in order. */
  readonly ratios?: number[];
}

/** The bare model's images/s on `input` over about --seconds (one warm-up batch first). */
async function bareRate(embedder: TfEmbedder, input: DecodedPixels[]): Promise<number> {
  await embedder.embed(input);
  const cpuBefore = threadTimes();
  let done = 0;
  const started = performance.now();
  while (done === 0 || performance.now() - started < targetSeconds * 1000) {
    await embedder.embed(input);
    done++;
  }
  if (threadCpu) process.stderr.write(`    bare b${input.length} cpu ms/image: ${threadDelta(cpuBefore, threadTimes()).slice(0, 8).map((t) => `${t.name === 'main' ? 'main' : `${t.name}#${t.tid}`}=${(t.ms / (done * input.length)).toFixed(2)}`).join(' ')}\n`);
  return (input.length * done) / ((performance.now() - started) / 1000);
}

/** The middle value (the lower of the two middle ones for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function randomImages(count: number, seed: number): DecodedPixels[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => ({ width: 224, height: 224, channels: 3, data: Float32Array.from({ length: 224 * 224 * 3 }, () => random.next()) }));
}

async function timeBackend(backend: BackendName, images: DecodedPixels[]): Promise<Row[]> {
  try {
    await loadBackend(backend);
  } catch (error) {
    return [{ engine: `tfjs ${backend}`, batch: 0, note: `unavailable: ${(error as Error).message}` }];
  }
  const skip = (batch: number) => (backend === 'cpu' && batch > 16 && !fullCpu ? 'skipped: one batch takes minutes on the pure-JS backend (--full-cpu runs it)' : undefined);
  const embedder = await TfEmbedder.open({ builtin: 'mobilenet-v2' }, { l2normalize: false });
  const rows = (await timeEmbedder(`tfjs ${backend}`, embedder, images, skip)).map((r) => ({ ...r, note: embedder.execution }));
  embedder.dispose();
  if (eagerRows && embedder.execution.startsWith('layers-as-session')) {
    const eager = await TfEmbedder.open({ builtin: 'mobilenet-v2' }, { l2normalize: false, session: false });
    rows.push(...(await timeEmbedder(`tfjs ${backend} eager`, eager, images, skip)).map((r) => ({ ...r, note: eager.execution })));
    eager.dispose();
  }
  return rows;
}

async function timeEmbedder(engine: string, embedder: Embedder, images: DecodedPixels[], skip: (batch: number) => string | undefined = () => undefined): Promise<Row[]> {
  const rows: Row[] = [];
  for (const batch of batchSizes) {
    const skipped = skip(batch);
    if (skipped) {
      rows.push({ engine, batch, note: skipped });
      continue;
    }
    const input = images.slice(0, batch);
    await embedder.embed(input); // warm-up: kernel compilation, weight upload, allocator growth
    let done = 0;
    const started = performance.now();
    while (done === 0 || performance.now() - started < targetSeconds * 1000) {
      await embedder.embed(input);
      done++;
    }
    const seconds = (performance.now() - started) / 1000;
    rows.push({ engine, batch, imagesPerSecond: (batch * done) / seconds, batches: done });
    process.stderr.write(`  ${engine} batch ${batch}: ${((batch * done) / seconds).toFixed(2)} images/s\n`);
  }
  return rows;
}

/** The PyTorch reference model exported to ONNX (cached), float32 and float16, through ONNX Runtime. */
async function onnxRows(images: DecodedPixels[]): Promise<Row[]> {
  if (!runOnnx) return [];
  const file = path.resolve('.cache', 'bench', 'mobilenet_v2.onnx');
  const fp16 = path.resolve('.cache', 'bench', 'mobilenet_v2_fp16.onnx');
  const unavailable = torchUnavailable();
  if (unavailable) return [{ engine: 'onnxruntime', batch: 0, note: `no model to export: ${unavailable}` }];
  if (!existsSync(file) || !existsSync(fp16)) {
    mkdirSync(path.dirname(file), { recursive: true });
    runReference('export_onnx.py', [file, '--fp16', fp16]);
  }
  const where = onnxProvider === 'cpu' ? `${PYTORCH_THREADS} threads` : onnxProvider;
  return [...(await onnxModelRows(`onnxruntime ${where}`, file, images)), ...(await onnxModelRows(`onnxruntime fp16 ${where}`, fp16, images))];
}

async function onnxModelRows(engine: string, file: string, images: DecodedPixels[]): Promise<Row[]> {
  let embedder: OnnxEmbedder;
  try {
    embedder = await OnnxEmbedder.open({ path: file, output: 'embedding' }, { intraOpThreads: PYTORCH_THREADS, executionProvider: onnxProvider });
  } catch (error) {
    return [{ engine, batch: 0, note: `unavailable: ${(error as Error).message}` }];
  }
  // The decode presets for PyTorch models write CHW; the images here are HWC, so the bench would
  // time a transpose the stage does not do. Give it CHW, as the imagenet preset would.
  const chw = images.map((img) => ({ ...img, layout: 'chw' as const }));
  try {
    return await timeEmbedder(engine, embedder, chw);
  } finally {
    await embedder.dispose();
  }
}

/** Rows of every PyTorch present (PyPI's first: the reference), and notes for the ones missing. */
function torchRows(): { rows: Row[]; references: TorchReference[] } {
  if (!runTorch) return { rows: [], references: [] };
  const { found, missing } = torchReferences();
  const rows: Row[] = missing.map((why) => ({ engine: 'pytorch', batch: 0, note: why }));
  for (const reference of found) {
    // As installed and with passive OpenMP waits; the faster per batch is the reference (see REFERENCE_WAIT_POLICIES).
    const engine = `pytorch ${reference.source} ${PYTORCH_THREADS}t`;
    const best = new Map<number, Row>();
    for (const policy of REFERENCE_WAIT_POLICIES) {
      const out = runReference('embed_torch.py', ['--batches', batchSizes.join(','), '--seconds', String(targetSeconds)], reference.python, policy.env);
      for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
        const r = JSON.parse(line) as { batch: number; images_per_s: number; batches: number; torch: string };
        rows.push({ engine: `${engine} ${policy.label === 'default' ? 'spin' : 'passive'}`, batch: r.batch, imagesPerSecond: r.images_per_s, batches: r.batches, note: `torch ${r.torch}, ${policy.label}` });
        if ((best.get(r.batch)?.imagesPerSecond ?? -1) < r.images_per_s) best.set(r.batch, { engine, batch: r.batch, imagesPerSecond: r.images_per_s, batches: r.batches, note: `torch ${r.torch}, the faster policy` });
      }
    }
    rows.push(...best.values());
  }
  return { rows, references: found };
}

/** jpeg: 256x256 random-noise JPEGs (a JPEG decoder's worst case); photo: 320x240 photo-like JPEGs (bench:decode's); raw: 224x224 RGB bytes. */
type BenchInput = 'jpeg' | 'photo' | 'raw';

/** Bench source: `count` records carrying one of a few JPEGs as payload.bytes, or raw RGB bytes. */
const jpegSource = definePlugin({
  name: 'bench-jpegs',
  kind: 'source',
  description: 'Bench source: `count` records, each one of 8 random-pattern 256x256 JPEGs (input jpeg) or 8 photo-like 320x240 JPEGs (photo) as payload.bytes, or (raw) one of 8 224x224 RGB byte images as payload.rawPixels.',
  configSchema: s.object({ count: s.integer({ min: 1 }), input: s.enum(['jpeg', 'photo', 'raw'] as const, { default: 'jpeg' }) }),
  deps: { records: services.records },
  create({ config, deps, instanceName }) {
    return countedSource({
      count: config.count,
      yieldEvery: 64,
      prepare: async () => ({ jpegs: config.input === 'photo' ? await photoJpegs() : await benchJpegs(), raw: rawImages() }),
      record: (i, { jpegs, raw }) => {
        const payload = config.input === 'raw' ? { rawPixels: { width: 224, height: 224, channels: 3, data: raw[i % raw.length] } } : { bytes: jpegs[i % jpegs.length] };
        return deps.records.create({ key: `img-${i}`, payload, origin: { source: instanceName, position: i } });
      },
    });
  },
});

function rawImages(): Uint8Array[] {
  const random = new SeededRandom(6);
  return Array.from({ length: 8 }, () => Uint8Array.from({ length: 224 * 224 * 3 }, () => Math.floor(random.next() * 256)));
}

let photoCache: Buffer[] | undefined;
async function photoJpegs(): Promise<Buffer[]> {
  const random = new SeededRandom(7);
  photoCache ??= await Promise.all(Array.from({ length: 8 }, () => photoLike(320, 240, () => random.next()).jpeg({ quality: 85 }).toBuffer()));
  return photoCache;
}

let jpegCache: Buffer[] | undefined;
async function benchJpegs(): Promise<Buffer[]> {
  if (jpegCache) return jpegCache;
  const random = new SeededRandom(5);
  jpegCache = await Promise.all(
    Array.from({ length: 8 }, () => {
      const raw = Buffer.alloc(256 * 256 * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(random.next() * 256);
      return sharp(raw, { raw: { width: 256, height: 256, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    }),
  );
  return jpegCache;
}

/** Times of records leaving the embed stage. */
let passed: number[] = [];
const timingTap = definePlugin({
  name: 'bench-embed-timing',
  kind: 'stage',
  description: 'Bench stage: notes when each record leaves the embed stage.',
  configSchema: s.object({}),
  deps: {},
  create: () => ({ operator: (input) => input.pipe(tap(() => passed.push(performance.now()))) }),
});

/** decode -> embed (worker) -> sink at `batch`, images/s after the first two batches. */
async function pipelineRate(backend: BackendName, batch: number, bareRate: number, input: BenchInput, model: ModelSpec = { builtin: 'mobilenet-v2' }): Promise<number> {
  const count = Math.max(6 * batch, Math.round(bareRate * targetSeconds) + 2 * batch);
  const dir = await tempDir('temi-embed-bench-');
  passed = [];
  const cpuBefore = threadTimes();
  try {
    await runForTest(
      {
        name: 'embed-bench',
        source: { use: 'bench-jpegs', with: { count, input } },
        stages: [
          { use: 'decode', with: { preset: 'mobilenet-v2', ...(decodeThreads === '' ? {} : { threads: Number(decodeThreads) }) } },
          { use: 'embed', with: { model, backend, batchSize: batch, maxWaitMs: 1000 } },
          { use: 'bench-embed-timing', with: {} },
        ],
        sink: { use: 'jsonl', with: { path: 'out.jsonl', fsync: false } },
        runtime: { maxInFlight: Math.max(64, 4 * batch) },
      },
      dir,
      [jpegSource, timingTap],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (threadCpu) process.stderr.write(`    pipeline ${input} b${batch} cpu ms/image: ${threadDelta(cpuBefore, threadTimes()).slice(0, 12).map((t) => `${t.name === 'main' ? 'main' : `${t.name}#${t.tid}`}=${(t.ms / count).toFixed(2)}`).join(' ')}\n`);
  const from = 2 * batch - 1;
  return (passed.length - 1 - from) / ((passed[passed.length - 1] - passed[from]) / 1000);
}

/**
 * --host-path: the same pipeline with a model that costs next to nothing (a 16x16 average pool), so
 * its images/s is what the pipeline's own thread (source, decode, records, the hand-over to the
 * embed worker, sink) can feed: the ceiling a model on a fast GPU runs into.
 */
async function hostPath(backend: BackendName): Promise<Row[]> {
  const dir = await tempDir('temi-embed-host-path-');
  const pool = tf.sequential({ layers: [tf.layers.averagePooling2d({ inputShape: [224, 224, 3], poolSize: 16 }), tf.layers.flatten()] });
  await pool.save(`file://${path.join(dir, 'pool')}`);
  pool.dispose();
  const rows: Row[] = [];
  try {
    for (const input of pipelineInputs) {
      for (const batch of batchSizes) {
        // Sized for ~targetSeconds at a few thousand images/s.
        const rate = await pipelineRate(backend, batch, 2000, input, { path: path.join(dir, 'pool', 'model.json') });
        rows.push({ engine: `host path ${input}`, batch, imagesPerSecond: rate, note: 'the pipeline with a near-free model (16x16 average pool): what its own thread can feed a model' });
        process.stderr.write(`  host path ${input} batch ${batch}: ${rate.toFixed(0)} images/s\n`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  console.log(`MobileNetV2-224 -> 1280-d embedding; ${GFLOP_PER_IMAGE} GFLOP/image (300 M MAC); ~${targetSeconds} s per configuration after one warm-up batch`);
  const images = randomImages(Math.max(...batchSizes), 1);
  const rows: Row[] = [];
  for (const backend of backends) rows.push(...(await timeBackend(backend, images)));
  const pipelineRows: Row[] = [];
  const firstTf = rows.find((r) => r.engine.startsWith('tfjs') && !r.engine.endsWith('eager') && r.imagesPerSecond !== undefined);
  if (runPipeline && firstTf) {
    const backend = firstTf.engine.replace(/^tfjs /, '') as BackendName;
    await loadBackend(backend);
    // The bare model is timed again right before and after each pipeline run, and the pipeline is
    // set against the mean of the two: on a shared machine the load moves between minutes.
    const bare = await TfEmbedder.open({ builtin: 'mobilenet-v2' }, { l2normalize: false });
    for (const input of pipelineInputs) {
      for (const batch of batchSizes.filter((b) => rows.some((r) => r.engine === firstTf.engine && r.batch === b && r.imagesPerSecond !== undefined))) {
        // bare, pipeline, bare, pipeline, ..., bare: each pipeline run against the mean of the bare
        // runs on either side of it, and the median of those ratios, as one window moves 2x here.
        const bares = [await bareRate(bare, images.slice(0, batch))];
        const rates: number[] = [];
        const ratios: number[] = [];
        for (let r = 0; r < pipelineRepeats; r++) {
          rates.push(await pipelineRate(backend, batch, bares[r], input));
          bares.push(await bareRate(bare, images.slice(0, batch)));
          ratios.push(rates[r] / ((bares[r] + bares[r + 1]) / 2));
        }
        const middle = ratios.indexOf(median(ratios));
        const what = { jpeg: 'JPEG 256 px noise -> 224', photo: 'JPEG 320x240 photo-like -> 224', raw: 'raw 224 px bytes' }[input];
        pipelineRows.push({
          engine: `pipeline ${input} ${backend}`,
          batch,
          imagesPerSecond: rates[middle],
          bare: (bares[middle] + bares[middle + 1]) / 2,
          ratios,
          note: `decode (${what}) + embed on its worker; the median of ${pipelineRepeats} runs, each against the bare model right before and after (${bares.map((b) => b.toFixed(1)).join(', ')}): ${ratios.map((x) => x.toFixed(2)).join(', ')}`,
        });
        process.stderr.write(`  pipeline ${input} ${backend} batch ${batch}: ${rates.map((x) => x.toFixed(2)).join(', ')} images/s (bare ${bares.map((b) => b.toFixed(2)).join(', ')})\n`);
      }
    }
    bare.dispose();
  }
  rows.push(...pipelineRows);
  if (hostPathRows && firstTf) rows.push(...(await hostPath(firstTf.engine.replace(/^tfjs /, '') as BackendName)));
  rows.push(...(await onnxRows(images)));
  const { rows: torch, references } = torchRows();
  rows.push(...torch);

  console.log('');
  console.log(`${'engine'.padEnd(26)} batch   images/s   GFLOP/s   batches  note`);
  for (const r of rows) {
    const ips = r.imagesPerSecond;
    console.log(
      `${r.engine.padEnd(26)} ${String(r.batch || '-').padStart(5)} ${ips === undefined ? '         -' : ips.toFixed(2).padStart(10)} ${ips === undefined || r.engine.startsWith('host path') ? '        -' : (ips * GFLOP_PER_IMAGE).toFixed(2).padStart(9)} ${String(r.batches ?? '-').padStart(9)}  ${r.note ?? ''}`,
    );
  }
  if (pipelineRows.length > 0) {
    console.log('');
    console.log(`pipeline (decode + embed on its worker thread) / bare model (mean of its runs right before and after), same batch; the median of ${pipelineRepeats} runs, then all of them:`);
    for (const p of pipelineRows) {
      console.log(
        `  ${p.engine.split(' ')[1].padEnd(5)} batch ${String(p.batch).padStart(3)}: ${p.imagesPerSecond!.toFixed(2)} / ${p.bare!.toFixed(2)} images/s = ${(p.imagesPerSecond! / p.bare!).toFixed(2)}x (${p.ratios!.map((x) => x.toFixed(2)).join(', ')})`,
      );
    }
  }
  for (const reference of references) {
    const engine = `pytorch ${reference.source} ${PYTORCH_THREADS}t`;
    const base = new Map(torch.filter((r) => r.engine === engine && r.imagesPerSecond !== undefined).map((r) => [r.batch, r.imagesPerSecond!]));
    if (base.size === 0) continue;
    console.log('');
    console.log(`ratio to PyTorch ${reference.version} (${reference.source === 'pypi' ? 'PyPI, the reference' : "Debian's python3-torch"}; images/s / its images/s, the faster of its two OpenMP wait policies, same batch, same run):`);
    for (const r of rows) {
      const b = base.get(r.batch);
      if (!r.engine.startsWith('pytorch') && r.imagesPerSecond !== undefined && b) console.log(`  ${r.engine.padEnd(26)} batch ${String(r.batch).padStart(3)}: ${(r.imagesPerSecond / b).toFixed(2)}x`);
    }
  }
  console.log(`\ntf.memory().numTensors at exit: ${tf.memory().numTensors}`);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ bench: 'embed', rows }, null, 2));
}

await main();
