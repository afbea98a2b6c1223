import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { PixelsEmbedder } from '../../../src/embedding/pixels/pixels-embedder.ts';
import { TfEmbedder } from '../../../src/embedding/tf-embedder.ts';
import { definePlugin, s } from '../../../src/runtime/contracts/index.ts';
import { decodeImage } from '../../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec } from '../../../src/stages/decode/decode-spec.ts';
import { normalisePixels } from '../../../src/stages/decode/normalise-pixels.ts';
import { embedStagePlugin } from '../../../src/stages/embed/embed-stage.plugin.ts';
import { pixelsEmbedStagePlugin } from '../../../src/stages/embed/pixels-embed.plugin.ts';
import { buildTinyLayersModel, saveLayersModel } from '../../embedding/support/tiny-models.ts';
import { noisyJpeg, writeFileIn } from '../image-fixtures.ts';
import { runStages, tempDir } from '../stage-pipeline.ts';

/** Keeps each record's embedding as it leaves the embed stage. */
const embeddings = new Map<string, Float32Array>();
const captureEmbeddings = definePlugin({
  name: 'capture-embeddings',
  kind: 'stage',
  description: 'Test stage: keeps each record embedding by key.',
  configSchema: s.object({}),
  deps: {},
  create: () => ({ operator: (input) => input.pipe(tap((r) => embeddings.set(r.key, r.payload.embedding!))) }),
});

describe('decode -> embed with the decoded pixels going round (PixelBuffers)', () => {
  it.each([0, 2])("embeds every image from its own pixels while the decode stage's buffers are reused, batches in flight on the worker (decode threads %i)", async (threads) => {
    const dir = await tempDir('pooled-pixels-');
    const model = buildTinyLayersModel(16, 3, 41);
    await saveLayersModel(model, join(dir, 'models', 'tiny'));
    model.dispose();
    const names = Array.from({ length: 40 }, (_, i) => `images/${String(i).padStart(2, '0')}.jpg`);
    for (const name of names) await writeFileIn(join(dir, name), await noisyJpeg(20, 20));
    embeddings.clear();

    // 40 images, at most 12 in flight: each buffer holds several images in turn.
    const { summary, deadLetters } = await runStages(
      dir,
      { use: 'files', with: { folder: 'images' } },
      [
        { use: 'decode', with: { preset: 'mobilenet-v2', size: 16, threads } },
        { use: 'embed', with: { model: { path: 'models/tiny/model.json', outputLayer: 'features' }, backend: 'wasm', batchSize: 4, maxWaitMs: 20, l2normalize: false } },
        { use: 'capture-embeddings' },
      ],
      { maxInFlight: 12 },
      { plugins: [embedStagePlugin, captureEmbeddings] },
    );
    expect(deadLetters).toEqual([]);
    expect(summary.written).toBe(40);

    // Each image on its own, decoded into a buffer of its own.
    const spec = resolveDecodeSpec({ preset: 'mobilenet-v2', size: 16 });
    const reference = await TfEmbedder.open({ path: join(dir, 'models/tiny/model.json'), outputLayer: 'features' }, { l2normalize: false });
    try {
      for (const name of names) {
        const key = name.slice('images/'.length);
        const pixels = normalisePixels(await decodeImage(await readFile(join(dir, name)), spec, { maxPixels: 1e6, formats: ['jpeg'], failOn: 'warning' }, key), spec);
        const [expected] = await reference.embed([pixels]);
        const got = embeddings.get(key);
        expect(got, key).toBeDefined();
        got!.forEach((v, j) => expect(v, `${key}[${j}]`).toBeCloseTo(expected[j], 5));
      }
    } finally {
      reference.dispose();
    }
  });
});

describe('decode -> pixels-embed with the decoded pixels going round (PixelBuffers)', () => {
  it.each([
    ['none', 0],
    ['none', 2],
    ['random', 0],
  ] as const)('embeds every image from its own pixels while the buffers pixels-embed gives back are reused (projection %s, decode threads %i)', async (projection, threads) => {
    const dir = await tempDir('pooled-pixels-embed-');
    const names = Array.from({ length: 40 }, (_, i) => `images/${String(i).padStart(2, '0')}.png`);
    for (const [i, name] of names.entries()) {
      const grey = Buffer.from(Array.from({ length: 36 * 36 }, (_, j) => (j * (i + 3) * 7) % 256));
      await writeFileIn(join(dir, name), await sharp(grey, { raw: { width: 36, height: 36, channels: 1 } }).png().toBuffer());
    }
    embeddings.clear();
    const embedOptions = { projection, ...(projection === 'random' ? { dim: 16 } : {}), seed: 5, l2normalize: true };

    const { summary, deadLetters } = await runStages(
      dir,
      { use: 'files', with: { folder: 'images' } },
      [{ use: 'decode', with: { preset: 'mnist', threads } }, { use: 'pixels-embed', with: embedOptions }, { use: 'capture-embeddings' }],
      { maxInFlight: 12 },
      { plugins: [pixelsEmbedStagePlugin, captureEmbeddings] },
    );
    expect(deadLetters).toEqual([]);
    expect(summary.written).toBe(40);

    const spec = resolveDecodeSpec({ preset: 'mnist' });
    const reference = new PixelsEmbedder(embedOptions);
    for (const name of names) {
      const key = name.slice('images/'.length);
      const pixels = reference.accept(normalisePixels(await decodeImage(await readFile(join(dir, name)), spec, { maxPixels: 1e6, formats: ['png'], failOn: 'warning' }, key), spec));
      expect(embeddings.get(key), key).toEqual(reference.embed(pixels));
    }
  });
});
