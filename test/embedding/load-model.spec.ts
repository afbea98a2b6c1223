import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBuiltinModel } from '../../src/embedding/builtin-models.ts';
import { TfEmbedder } from '../../src/embedding/tf-embedder.ts';
import { loadBackend, type BackendName } from '../../src/tf/backends.ts';
import { tf } from '../../src/tf/tf.ts';
import { syntheticImages } from './support/images.ts';
import { maxAbsDiff } from './support/max-abs-diff.ts';
import { buildTinyLayersModel, saveLayersModel, writeTinyGraphModel } from './support/tiny-models.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'temi-embed-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each<BackendName>(['wasm', 'cpu'])('model files load via file:// on the %s backend', (backend) => {
  beforeAll(async () => {
    await loadBackend(backend);
  });

  it('a saved LayersModel, cut at a named layer, gives that layer\'s output for each image', async () => {
    const model = buildTinyLayersModel(16, 3, 5);
    const modelJson = await saveLayersModel(model, path.join(dir, `layers-${backend}`));
    const images = syntheticImages(6, 16, 3, 1);
    const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('features').output as tf.SymbolicTensor });
    const input = tf.tensor4d(Float32Array.from(images.flatMap((i) => Array.from(i.data))), [6, 16, 16, 3]);
    const expectedTensor = features.predict(input) as tf.Tensor2D;
    const expected = (await expectedTensor.array()).map((r) => Float32Array.from(r));
    tf.dispose([input, expectedTensor]);
    model.dispose();

    const embedder = await TfEmbedder.open({ path: modelJson, outputLayer: 'features' });
    expect(embedder.geometry).toEqual({ width: 16, height: 16, channels: 3 });
    expect(embedder.dim).toBe(8);
    const rows = await embedder.embed(images);
    expect(maxAbsDiff(rows, expected)).toBeLessThan(1e-5);
    embedder.dispose();
  });

  it('a GraphModel (converter format) runs up to the named node; format and input size are taken from config where the graph leaves them open', async () => {
    const { modelJson, weights } = await writeTinyGraphModel(path.join(dir, `graph-${backend}`), 1, 9);
    const images = syntheticImages(5, 12, 1, 2);
    const input = tf.tensor4d(Float32Array.from(images.flatMap((i) => Array.from(i.data))), [5, 12, 12, 1]);
    const filter = tf.tensor4d(weights.filter, [3, 3, 1, 4]);
    const expectedTensor = tf.tidy(() => tf.relu(tf.conv2d(input, filter, 1, 'same')).mean([1, 2]));
    const expected = (await expectedTensor.array() as number[][]).map((r) => Float32Array.from(r));
    tf.dispose([input, filter, expectedTensor]);

    const embedder = await TfEmbedder.open({ path: path.dirname(modelJson), outputNode: 'features', inputSize: 12 });
    expect(embedder.geometry).toEqual({ width: 12, height: 12, channels: 1 });
    expect(embedder.dim).toBe(4);
    expect(maxAbsDiff(await embedder.embed(images), expected)).toBeLessThan(1e-5);
    embedder.dispose();

    const logits = await TfEmbedder.open({ path: modelJson, format: 'graph', inputSize: 12 });
    expect(logits.dim).toBe(2);
    logits.dispose();
  });
});

describe('the built-in MobileNetV2', () => {
  it('exported to the model cache as model.json + weights, loads by path and embeds exactly as the in-memory built-in', async () => {
    await loadBackend('wasm');
    const modelJson = await exportBuiltinModel('mobilenet-v2', path.join(dir, 'cache'));
    expect(modelJson).toBe(path.join(dir, 'cache', 'mobilenet_v2', 'model.json'));
    const images = syntheticImages(2, 224, 3, 8);
    const builtin = await TfEmbedder.open({ builtin: 'mobilenet-v2' });
    const fromFile = await TfEmbedder.open({ path: modelJson, outputLayer: 'average_pooling2d_1' });
    expect(fromFile.geometry).toEqual({ width: 224, height: 224, channels: 3 });
    expect(fromFile.dim).toBe(1280);
    expect(maxAbsDiff(await fromFile.embed(images), await builtin.embed(images))).toBe(0);
    builtin.dispose();
    fromFile.dispose();
  });
});

describe('model load failures say what is wrong', () => {
  beforeAll(async () => {
    await loadBackend('cpu');
  });

  it('a missing path', async () => {
    await expect(TfEmbedder.open({ path: path.join(dir, 'nope', 'model.json') })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_LOAD', message: expect.stringContaining('does not exist') });
  });

  it('an unknown layer, with the nearest name', async () => {
    const modelJson = await saveLayersModel(buildTinyLayersModel(8, 1, 3), path.join(dir, 'layers-typo'));
    await expect(TfEmbedder.open({ path: modelJson, outputLayer: 'featurs' })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_OUTPUT_NOT_FOUND', message: expect.stringContaining('did you mean "features"') });
  });

  it('an unknown graph node', async () => {
    const { modelJson } = await writeTinyGraphModel(path.join(dir, 'graph-typo'), 1, 4);
    await expect(TfEmbedder.open({ path: modelJson, outputNode: 'feature', inputSize: 8 })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_OUTPUT_NOT_FOUND', message: expect.stringContaining('did you mean "features"') });
  });

  it('a graph with an open input size and no inputSize', async () => {
    const { modelJson } = await writeTinyGraphModel(path.join(dir, 'graph-open'), 1, 4);
    await expect(TfEmbedder.open({ path: modelJson })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_INPUT_SIZE' });
  });

  it('a SavedModel directory without the native backend', async () => {
    const { writeFile, mkdir } = await import('node:fs/promises');
    const saved = path.join(dir, 'saved');
    await mkdir(saved, { recursive: true });
    await writeFile(path.join(saved, 'saved_model.pb'), '');
    await expect(TfEmbedder.open({ path: saved })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_LOAD', message: expect.stringContaining('native TensorFlow backend') });
  });
});

describe('a TensorFlow SavedModel (fixtures/make_tiny_saved_model.py)', () => {
  it('runs on the native backend, picking the signature output named by outputNode; without native TensorFlow it is refused with the reason', async () => {
    const saved = path.join(import.meta.dirname, 'fixtures', 'tiny-saved-model');
    let nativeLoads = true;
    try {
      await loadBackend('tensorflow');
    } catch {
      nativeLoads = false; // optional package; `npm run setup:tensorflow` provides it
    }
    if (!nativeLoads) {
      await loadBackend('cpu');
      await expect(TfEmbedder.open({ path: saved })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_LOAD' });
      return;
    }
    const { readFile } = await import('node:fs/promises');
    const weights = JSON.parse(await readFile(path.join(import.meta.dirname, 'fixtures', 'tiny-saved-model.weights.json'), 'utf8')) as { filter: number[]; filterShape: [number, number, number, number] };
    const images = syntheticImages(3, 16, 3, 12);
    const input = tf.tensor4d(Float32Array.from(images.flatMap((i) => Array.from(i.data))), [3, 16, 16, 3]);
    const filter = tf.tensor4d(weights.filter, weights.filterShape);
    const expectedTensor = tf.tidy(() => tf.relu(tf.conv2d(input, filter, 1, 'same')).mean([1, 2]));
    const expected = ((await expectedTensor.array()) as number[][]).map((r) => Float32Array.from(r));
    tf.dispose([input, filter, expectedTensor]);

    const embedder = await TfEmbedder.open({ path: saved, outputNode: 'features' });
    expect(embedder.geometry).toEqual({ width: 16, height: 16, channels: 3 });
    expect(embedder.dim).toBe(8);
    expect(maxAbsDiff(await embedder.embed(images), expected)).toBeLessThan(1e-5);
    embedder.dispose();
    await expect(TfEmbedder.open({ path: saved })).rejects.toMatchObject({ code: 'TS_ERR_EMBED_OUTPUT_NOT_FOUND', message: expect.stringContaining('features') });
  });
});

describe('the built-in InceptionV3', () => {
  it('loads from the nsfwjs package and gives 2048-d global-pool features for 299 px images', async () => {
    await loadBackend('wasm');
    const embedder = await TfEmbedder.open({ builtin: 'inception-v3' });
    expect(embedder.geometry).toEqual({ width: 299, height: 299, channels: 3 });
    expect(embedder.dim).toBe(2048);
    const [a, b] = await embedder.embed(syntheticImages(2, 299, 3, 5));
    expect(a.every((v) => Number.isFinite(v))).toBe(true);
    expect(maxAbsDiff([a], [b])).toBeGreaterThan(0);
    embedder.dispose();
  });
});
