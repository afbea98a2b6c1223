import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TfEmbedder } from '../../src/embedding/tf-embedder.ts';
import { WorkerEmbedder } from '../../src/embedding/worker/worker-embedder.ts';
import { loadBackend } from '../../src/tf/backends.ts';
import { syntheticImages } from './support/images.ts';
import { buildTinyLayersModel, saveLayersModel } from './support/tiny-models.ts';

describe('the embed model on its worker thread', () => {
  it("gives the in-thread embedder's rows batch after batch, as batch buffers are handed back and packed again, whatever the batch sizes", async () => {
    await loadBackend('cpu');
    const dir = await mkdtemp(path.join(tmpdir(), 'temi-worker-embedder-'));
    let worker: WorkerEmbedder | undefined;
    try {
      const model = buildTinyLayersModel(16, 3, 41);
      const modelJson = await saveLayersModel(model, dir);
      model.dispose();
      const spec = { path: modelJson, outputLayer: 'features' };
      const inThread = await TfEmbedder.open(spec);
      worker = await WorkerEmbedder.start({ spec, options: {}, backend: 'cpu' });
      const images = syntheticImages(20, 16, 3, 9);
      // A smaller batch after larger ones, and two batches in flight at once.
      const sizes = [4, 4, 2, 4, 3, 3];
      let at = 0;
      for (const size of sizes) {
        const batch = images.slice(at, at + size);
        at += size;
        expect(await worker.embed(batch)).toEqual(await inThread.embed(batch));
      }
      const [first, second] = await Promise.all([worker.embed(images.slice(0, 4)), worker.embed(images.slice(4, 8))]);
      expect(first).toEqual(await inThread.embed(images.slice(0, 4)));
      expect(second).toEqual(await inThread.embed(images.slice(4, 8)));
      inThread.dispose();
    } finally {
      await worker?.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
