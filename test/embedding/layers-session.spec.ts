/**
 * On native TensorFlow a LayersModel runs as one TensorFlow session per batch (written as a frozen
 * SavedModel with batch norm folded into the convolutions; src/embedding/layers-saved-model.ts)
 * instead of layer by layer: the same embeddings, several times faster (docs/BENCHMARKS.md). The
 * session is our addon's, which takes the pack buffer as its input tensor; without the addon it
 * is tfjs-node's, which copies it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfEmbedder } from '../../src/embedding/tf-embedder.ts';
import { loadBackend } from '../../src/tf/backends.ts';
import { tf } from '../../src/tf/tf.ts';
import { syntheticImages } from './support/images.ts';
import { maxAbsDiff } from './support/max-abs-diff.ts';
import { buildTinyLayersModel, saveLayersModel } from './support/tiny-models.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'temi-layers-session-'));
  await loadBackend('tensorflow');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a LayersModel on native TensorFlow', () => {
  it('the built-in MobileNetV2 runs as one session and embeds as the layer-by-layer model does', async () => {
    const images = syntheticImages(3, 224, 3, 11);
    const session = await TfEmbedder.open({ builtin: 'mobilenet-v2' });
    const eager = await TfEmbedder.open({ builtin: 'mobilenet-v2' }, { session: false });
    // The addon is built (npm run setup): the pack buffer is the session's input, no copy.
    expect(session.execution).toBe('layers-as-session, input shared');
    expect(eager.execution).toBe('layers');
    expect(session.dim).toBe(1280);
    const tensorsBefore = tf.memory().numTensors;
    const a = await session.embed(images);
    const b = await eager.embed(images);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // Batch norm folded into the weights moves float32 rounding only (values are O(1)).
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(Math.max(...b.flatMap((row) => Array.from(row)))).toBeGreaterThan(0.1);
    session.dispose();
    eager.dispose();
  });

  it('a model cut at a layer the translation does not cover (Dense) runs layer by layer, as before', async () => {
    const model = buildTinyLayersModel(16, 3, 9);
    const modelJson = await saveLayersModel(model, path.join(dir, 'tiny'));
    model.dispose();
    const images = syntheticImages(4, 16, 3, 2);
    const head = await TfEmbedder.open({ path: modelJson, outputLayer: 'head' });
    // Says why, in the log line the embed stage writes at start.
    expect(head.execution).toMatch(/^layers \(one session declined: .*Dense/);
    const features = await TfEmbedder.open({ path: modelJson, outputLayer: 'features' });
    const featuresEager = await TfEmbedder.open({ path: modelJson, outputLayer: 'features' }, { session: false });
    expect(features.execution).toBe('layers-as-session, input shared');
    expect(maxAbsDiff(await features.embed(images), await featuresEager.embed(images))).toBeLessThan(1e-5);
    expect((await head.embed(images))[0]).toHaveLength(4);
    for (const e of [head, features, featuresEager]) e.dispose();
  });

  it('without our addon the session runs through tfjs-node (its input copied) and embeds the same', async () => {
    const images = syntheticImages(2, 224, 3, 5);
    const shared = await TfEmbedder.open({ builtin: 'mobilenet-v2' });
    const expected = (await shared.embed(images)).map((row) => Array.from(row.subarray(0, 8)));
    shared.dispose();
    // The addon is loaded once per process, so the other path runs in a process of its own.
    const script = `
      const { loadBackend } = await import('./src/tf/backends.ts');
      await loadBackend('tensorflow');
      const { TfEmbedder } = await import('./src/embedding/tf-embedder.ts');
      const { syntheticImages } = await import('./test/embedding/support/images.ts');
      const embedder = await TfEmbedder.open({ builtin: 'mobilenet-v2' });
      const rows = await embedder.embed(syntheticImages(2, 224, 3, 5));
      console.log(JSON.stringify({ execution: embedder.execution, rows: rows.map((r) => Array.from(r.subarray(0, 8))) }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, TEMI_FUSED_KERNELS: 'off', TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    const copied = JSON.parse(out.trim().split('\n').pop()!) as { execution: string; rows: number[][] };
    expect(copied.execution).toBe('layers-as-session, input copied (TEMI_FUSED_KERNELS=off)');
    expect(maxAbsDiff(copied.rows.map((r) => Float32Array.from(r)), expected.map((r) => Float32Array.from(r)))).toBeLessThan(1e-5);
  }, 60_000);
});
