/**
 * Where a batch's time goes in the embed stage's TensorFlow path, phase by phase, to find what
 * separates it from PyTorch on the same device (bench:embed gives the totals).
 *
 *   npm run bench:embed-phases [-- --backend tensorflow|tensorflow-gpu --batches 1,16,64 --seconds 2 --json FILE]
 *
 * The model is the built-in MobileNetV2 cut at its global average pool, run as one TensorFlow
 * session (the LayersModel written as a frozen SavedModel, as TfEmbedder runs it), opened twice:
 * through tfjs-node's loadSavedModel, and through our addon (src/tf/native-session.ts), which
 * TfEmbedder uses where it is built. Per batch:
 *   pack      the decoded images copied into one NHWC Float32Array (TfEmbedder.embed's packImages)
 *   tfjs-node's session, phase by phase:
 *   copy-in   that array copied into a TensorFlow tensor (tfjs-node copies on a tensor's first use;
 *             measured as a fresh input's session call minus a resident input's)
 *   session   TF_SessionRun on an input TensorFlow already holds: on a GPU the upload from host
 *             memory, the forward pass and the download of the rows
 *   copy-out  the rows copied from TensorFlow into JavaScript (dataSync)
 *   addon     our addon's session on the same array, which it takes as the input tensor: the
 *             session and the rows' copy out, no copy in
 *   pinned    the same from page-locked memory registered with CUDA (GPU builds only; else 0) * and `embed`, TfEmbedder.embedPacked as the stage calls it, for the total.
 * Environment variables TensorFlow reads at start (TF_GPU_THREAD_MODE, TF_XLA_FLAGS, ...) apply
 * as given; the first line prints the ones set.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { option } from './bench-support.ts';
import { BUILTIN_MODELS } from '../src/embedding/builtin-models.ts';
import { featureExtractor, type FeatureExtractor } from '../src/embedding/feature-extractor.ts';
import { writeLayersSavedModel } from '../src/embedding/layers-saved-model.ts';
import { loadModelFromArtifacts, loadSavedModel } from '../src/embedding/load-model.ts';
import { packImages } from '../src/embedding/onnx/pack-images.ts';
import { TfEmbedder } from '../src/embedding/tf-embedder.ts';
import type { DecodedPixels } from '../src/runtime/contracts/record.ts';
import { SeededRandom } from '../src/numeric/seeded-random.ts';
import { loadBackend, nativeBackendUsesGpu, type BackendName } from '../src/tf/backends.ts';
import { openNativeSession, tensorBuffer, type NativeSession } from '../src/tf/native-session.ts';
import { temiAddon } from '../src/tf/temi-addon.ts';
import { tf } from '../src/tf/tf.ts';

const backend = option('backend', 'tensorflow') as BackendName;
const batchSizes = option('batches', '1,16,64').split(',').map(Number);
const targetSeconds = Number(option('seconds', '2'));
const jsonFile = option('json', '');
const SIZE = 224;

type Phase = 'pack' | 'copy-in' | 'session' | 'copy-out' | 'addon' | 'pinned' | 'embed';
interface Row {
  readonly batch: number;
  /** Median milliseconds per batch. */
  readonly ms: Record<Phase, number>;
  readonly imagesPerSecond: number;
}

await loadBackend(backend);
const envSet = ['TF_GPU_THREAD_MODE', 'TF_GPU_THREAD_COUNT', 'TF_XLA_FLAGS', 'NVIDIA_TF32_OVERRIDE', 'TF_CUDNN_USE_AUTOTUNE', 'MALLOC_MMAP_THRESHOLD_']
  .filter((name) => process.env[name] !== undefined)
  .map((name) => `${name}=${process.env[name]}`);
console.log(`backend ${backend}${nativeBackendUsesGpu() ? ' (GPU)' : ''}; ${envSet.length > 0 ? envSet.join(' ') : 'no TensorFlow variables set'}`);

const { session, addon } = await openSessions();
const embedder = await TfEmbedder.open({ builtin: 'mobilenet-v2' });
console.log(`TfEmbedder: ${embedder.execution}`);
if (!embedder.execution.startsWith('layers-as-session')) console.log(`note: TfEmbedder runs ${embedder.execution}; its embed row is not the session's`);

const rows = batchSizes.map(measureBatch);
console.log('\nms per batch (median); copy-in = a fresh input\'s session call - a resident input\'s');
console.log('  batch     pack   copy-in   session  copy-out     addon    pinned     embed   images/s (embed)');
for (const r of rows) {
  const cells = (['pack', 'copy-in', 'session', 'copy-out', 'addon', 'pinned', 'embed'] as const).map((p) => r.ms[p].toFixed(2).padStart(9));
  console.log(`  ${String(r.batch).padStart(5)}${cells.join('')}   ${r.imagesPerSecond.toFixed(1).padStart(16)}`);
}
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ backend, gpu: nativeBackendUsesGpu(), env: envSet, rows }, null, 2));
session.dispose();
addon?.dispose();
embedder.dispose();

async function openSessions(): Promise<{ session: FeatureExtractor; addon?: NativeSession }> {
  const builtin = BUILTIN_MODELS['mobilenet-v2'];
  const loaded = await loadModelFromArtifacts(builtin.artifacts(), 'bench');
  if (loaded.format !== 'layers') throw new Error('the built-in MobileNetV2 is expected as a LayersModel');
  const dir = mkdtempSync(path.join(tmpdir(), 'temi-phases-'));
  try {
    const nodes = writeLayersSavedModel(loaded.model, dir, builtin.outputLayer);
    loaded.model.dispose();
    const native = openNativeSession(dir, { tag: 'serve', ...nodes });
    if ('unavailable' in native) console.log(`note: no addon session (${native.unavailable}); its column is 0`);
    const session = featureExtractor({ format: 'saved-model', model: await loadSavedModel(dir) }, {}, 'bench');
    return { session, addon: 'unavailable' in native ? undefined : native };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measureBatch(batch: number): Row {
  const random = new SeededRandom(batch);
  const images: DecodedPixels[] = Array.from({ length: batch }, () => ({
    width: SIZE,
    height: SIZE,
    channels: 3,
    data: Float32Array.from({ length: SIZE * SIZE * 3 }, () => random.next() * 2 - 1),
  }));
  let packed = packImages(images, 'nhwc', batch, tensorBuffer(batch * SIZE * SIZE * 3));
  // The same batch in page-locked memory registered with CUDA, where a GPU build has loaded CUDA.
  const pinned = addon ? temiAddon().exports?.pinnedFloat32Array(packed.length) ?? undefined : undefined;
  pinned?.set(packed);
  const resident = tf.tensor4d(packed, [batch, SIZE, SIZE, 3]);
  const samples: Record<Phase, number[]> = { pack: [], 'copy-in': [], session: [], 'copy-out': [], addon: [0], pinned: [0], embed: [] };
  const fresh: number[] = [];

  // Warm-up: the first call on each shape picks kernels (cuDNN autotuning, XLA compiles).
  tf.tidy(() => session.run(resident).dataSync());
  embedder.embedPacked(packed, batch);
  addon?.run(packed, [batch, SIZE, SIZE, 3]);
  if (addon) samples.addon = [];
  if (addon && pinned) {
    addon.run(pinned, [batch, SIZE, SIZE, 3]);
    samples.pinned = [];
  }

  const started = performance.now();
  do {
    let t = performance.now();
    packed = packImages(images, 'nhwc', batch, packed);
    samples.pack.push(performance.now() - t);

    t = performance.now();
    const out = session.run(resident);
    samples.session.push(performance.now() - t);
    t = performance.now();
    out.dataSync();
    samples['copy-out'].push(performance.now() - t);
    out.dispose();

    const input = tf.tensor4d(packed, [batch, SIZE, SIZE, 3]);
    t = performance.now();
    const again = session.run(input);
    fresh.push(performance.now() - t);
    again.dispose();
    input.dispose();

    if (addon) {
      t = performance.now();
      addon.run(packed, [batch, SIZE, SIZE, 3]);
      samples.addon.push(performance.now() - t);
    }
    if (addon && pinned) {
      t = performance.now();
      addon.run(pinned, [batch, SIZE, SIZE, 3]);
      samples.pinned.push(performance.now() - t);
    }

    t = performance.now();
    embedder.embedPacked(packed, batch);
    samples.embed.push(performance.now() - t);
  } while (performance.now() - started < targetSeconds * 1000 || samples.embed.length < 3);
  resident.dispose();

  const ms = Object.fromEntries(Object.entries(samples).map(([phase, values]) => [phase, median(values)])) as Record<Phase, number>;
  ms['copy-in'] = Math.max(0, median(fresh) - ms.session);
  return { batch, ms, imagesPerSecond: (1000 * batch) / ms.embed };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
