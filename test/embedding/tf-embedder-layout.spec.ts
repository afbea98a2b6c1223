import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packImages } from '../../src/embedding/onnx/pack-images.ts';
import { TfEmbedder } from '../../src/embedding/tf-embedder.ts';
import { loadBackend } from '../../src/tf/backends.ts';
import { syntheticImages } from './support/images.ts';
import { maxAbsDiff } from './support/max-abs-diff.ts';
import { buildTinyLayersModel, saveLayersModel } from './support/tiny-models.ts';

describe('pixels in CHW (decode presets imagenet, clip, dinov2) on a TF.js model', () => {
  it('give the same embeddings as the same pixels in HWC: the embedder transposes them', async () => {
    await loadBackend('cpu');
    const dir = await mkdtemp(path.join(tmpdir(), 'temi-tf-layout-'));
    try {
      const model = buildTinyLayersModel(16, 3, 31);
      const modelJson = await saveLayersModel(model, dir);
      model.dispose();
      const embedder = await TfEmbedder.open({ path: modelJson, outputLayer: 'features' });
      const hwc = syntheticImages(5, 16, 3, 8);
      const chw = hwc.map((img) => ({ ...img, data: packImages([img], 'nchw'), layout: 'chw' as const }));
      expect(maxAbsDiff([chw[0].data], [hwc[0].data])).toBeGreaterThan(0.1); // really another order
      expect(maxAbsDiff(await embedder.embed(chw), await embedder.embed(hwc))).toBe(0);
      embedder.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
