import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFromArtifacts } from '../../src/embedding/load-model.ts';
import { MOBILENET_V2_FEATURE_LAYER, MOBILENET_V2_FEATURES, mobileNetV2Artifacts } from '../../src/embedding/nsfwjs-models.ts';
import { OnnxEmbedder } from '../../src/embedding/onnx/onnx-embedder.ts';
import { TfEmbedder } from '../../src/embedding/tf-embedder.ts';
import { loadBackend } from '../../src/tf/backends.ts';
import { syntheticImages } from './support/images.ts';
import { dumpKerasGraph } from './support/keras-graph-dump.ts';
import { maxAbsDiff } from './support/max-abs-diff.ts';
import { SYSTEM_PYTHON } from './support/onnx-fixtures.ts';

/**
 * The built-in MobileNetV2 (nsfwjs weights) rebuilt in PyTorch from its TF.js graph and weights,
 * exported to ONNX, and run by ONNX Runtime: the same 1280-d embeddings as TF.js gives.
 */
const SCRIPT = fileURLToPath(new URL('./fixtures/keras_graph_to_onnx.py', import.meta.url));
const IMAGES = syntheticImages(8, 224, 3, 2025);
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function f32(buffer: Buffer): Float32Array {
  return new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
}

describe('the built-in MobileNetV2 on ONNX Runtime', () => {
  it('equals TF.js on the same weights and images within 1e-4 (and PyTorch, which exported it)', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'temi-mobilenet-onnx-'));
    try {
      await loadBackend('tensorflow');
    } catch {
      await loadBackend('wasm'); // optional native package; `npm run setup:tensorflow` provides it
    }
    const tfjs = await TfEmbedder.open({ builtin: 'mobilenet-v2' });
    const tfRows = await tfjs.embed(IMAGES);
    tfjs.dispose();

    const loaded = await loadModelFromArtifacts(mobileNetV2Artifacts(), 'mobilenet-v2');
    if (loaded.format !== 'layers') throw new Error('the built-in is a LayersModel');
    await dumpKerasGraph(loaded.model, MOBILENET_V2_FEATURE_LAYER, path.join(dir, 'graph.json'), path.join(dir, 'weights.f32'));
    loaded.model.dispose();
    const packed = new Float32Array(IMAGES.length * 224 * 224 * 3);
    IMAGES.forEach((img, i) => packed.set(img.data, i * img.data.length));
    await writeFile(path.join(dir, 'images.f32'), new Uint8Array(packed.buffer));
    execFileSync(
      SYSTEM_PYTHON,
      [SCRIPT, path.join(dir, 'graph.json'), path.join(dir, 'weights.f32'), path.join(dir, 'mobilenet_v2.onnx'), path.join(dir, 'images.f32'), String(IMAGES.length), '224', path.join(dir, 'torch.f32')],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '2' } },
    );

    const onnx = await OnnxEmbedder.open({ path: path.join(dir, 'mobilenet_v2.onnx') }, { intraOpThreads: 2 });
    expect(onnx.signature).toMatchObject({ layout: 'nchw', geometry: { width: 224, height: 224, channels: 3 } });
    expect(onnx.dim).toBe(MOBILENET_V2_FEATURES);
    const onnxRows = await onnx.embed(IMAGES);
    await onnx.dispose();
    const torch = f32(await readFile(path.join(dir, 'torch.f32')));
    const torchRows = IMAGES.map((_, i) => torch.slice(i * MOBILENET_V2_FEATURES, (i + 1) * MOBILENET_V2_FEATURES));

    const diffs = { onnxVsTfjs: maxAbsDiff(onnxRows, tfRows), torchVsTfjs: maxAbsDiff(torchRows, tfRows), largestFeature: Math.max(...tfRows.map((r) => Math.max(...r))) };
    console.log(`max |difference| over ${IMAGES.length} x ${MOBILENET_V2_FEATURES} features: ${JSON.stringify(diffs)}`);
    expect(diffs.onnxVsTfjs).toBeLessThan(1e-4);
    expect(diffs.torchVsTfjs).toBeLessThan(1e-4);
    expect(maxAbsDiff([tfRows[0]], [tfRows[1]])).toBeGreaterThan(0.01); // real, image-specific features
  }, 300_000);
});
