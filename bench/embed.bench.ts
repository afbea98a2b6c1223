/**
 * MobileNetV2-224 embedding throughput per TensorFlow.js backend, and against the same
 * architecture in PyTorch on the same CPU.
 *
 *   npm run bench:embed [-- --seconds 6 --backends tensorflow-gpu,tensorflow,wasm,cpu --batches 1,16,64 --no-torch --no-onnx --onnx-provider cpu|cuda --full-cpu]
 *
 * Model: the built-in MobileNetV2 (nsfwjs weights) cut at its global average pool, 1280-d, as the
 * embed stage runs it (TfEmbedder: host copy in, forward pass, rows copied out). Input: random
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
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { MOBILENET_V2_MACS } from '../src/embedding/nsfwjs-models.ts';
import { PYTORCH_THREADS, option, runReference, torchUnavailable } from './bench-support.ts';
import { OnnxEmbedder, type OnnxExecutionProvider } from '../src/embedding/onnx/onnx-embedder.ts';
import { TfEmbedder } from '../src/embedding/tf-embedder.ts';
import type { Embedder } from '../src/embedding/embedder.ts';
import type { DecodedPixels } from '../src/runtime/contracts/record.ts';
import { SeededRandom } from '../src/numeric/seeded-random.ts';
import { BACKEND_PREFERENCE, loadBackend, type BackendName } from '../src/tf/backends.ts';
import { tf } from '../src/tf/tf.ts';

const GFLOP_PER_IMAGE = (2 * MOBILENET_V2_MACS) / 1e9;

const targetSeconds = Number(option('seconds', '6'));
const backends = option('backends', BACKEND_PREFERENCE.join(',')).split(',') as BackendName[];
const batchSizes = option('batches', '1,16,64').split(',').map(Number);
const runTorch = !process.argv.includes('--no-torch');
const runOnnx = !process.argv.includes('--no-onnx');
const onnxProvider = option('onnx-provider', 'cpu') as OnnxExecutionProvider;
const fullCpu = process.argv.includes('--full-cpu');

interface Row {
  readonly engine: string;
  readonly batch: number;
  readonly imagesPerSecond?: number;
  readonly batches?: number;
  readonly note?: string;
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
  const embedder = await TfEmbedder.open({ builtin: 'mobilenet-v2' }, { l2normalize: false });
  const rows = await timeEmbedder(`tfjs ${backend}`, embedder, images, (batch) =>
    backend === 'cpu' && batch > 16 && !fullCpu ? 'skipped: one batch takes minutes on the pure-JS backend (--full-cpu runs it)' : undefined,
  );
  embedder.dispose();
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

function torchRows(): Row[] {
  if (!runTorch) return [];
  const engine = `pytorch ${PYTORCH_THREADS} threads`;
  const unavailable = torchUnavailable();
  if (unavailable) return [{ engine, batch: 0, note: unavailable }];
  const out = runReference('embed_torch.py', ['--batches', batchSizes.join(','), '--seconds', String(targetSeconds)]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { batch: number; images_per_s: number; batches: number; torch: string })
    .map((r) => ({ engine, batch: r.batch, imagesPerSecond: r.images_per_s, batches: r.batches, note: `torch ${r.torch}` }));
}

async function main(): Promise<void> {
  console.log(`MobileNetV2-224 -> 1280-d embedding; ${GFLOP_PER_IMAGE} GFLOP/image (300 M MAC); ~${targetSeconds} s per configuration after one warm-up batch`);
  const images = randomImages(Math.max(...batchSizes), 1);
  const rows: Row[] = [];
  for (const backend of backends) rows.push(...(await timeBackend(backend, images)));
  rows.push(...(await onnxRows(images)));
  const torch = torchRows();
  rows.push(...torch);

  console.log('');
  console.log(`${'engine'.padEnd(26)} batch   images/s   GFLOP/s   batches  note`);
  for (const r of rows) {
    const ips = r.imagesPerSecond;
    console.log(
      `${r.engine.padEnd(26)} ${String(r.batch || '-').padStart(5)} ${ips === undefined ? '         -' : ips.toFixed(2).padStart(10)} ${ips === undefined ? '        -' : (ips * GFLOP_PER_IMAGE).toFixed(2).padStart(9)} ${String(r.batches ?? '-').padStart(9)}  ${r.note ?? ''}`,
    );
  }
  const reference = new Map(torch.filter((r) => r.imagesPerSecond !== undefined).map((r) => [r.batch, r.imagesPerSecond!]));
  if (reference.size > 0) {
    console.log('');
    console.log('ratio to PyTorch (images/s / PyTorch images/s, same batch):');
    for (const r of rows) {
      const base = reference.get(r.batch);
      if (!r.engine.startsWith('pytorch') && r.imagesPerSecond !== undefined && base) console.log(`  ${r.engine.padEnd(26)} batch ${String(r.batch).padStart(3)}: ${(r.imagesPerSecond / base).toFixed(2)}x`);
    }
  }
  console.log(`\ntf.memory().numTensors at exit: ${tf.memory().numTensors}`);
}

await main();
