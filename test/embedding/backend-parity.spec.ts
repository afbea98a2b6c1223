import { describe, expect, it } from 'vitest';
import { MOBILENET_V2_FEATURES } from '../../src/embedding/nsfwjs-models.ts';
import { TfEmbedder } from '../../src/embedding/tf-embedder.ts';
import { loadBackend, type BackendName } from '../../src/tf/backends.ts';
import { syntheticImages } from './support/images.ts';

const IMAGES = syntheticImages(32, 224, 3, 2024);

async function embedOn(backend: BackendName, batchSize: number): Promise<Float32Array[]> {
  await loadBackend(backend);
  const embedder = await TfEmbedder.open({ builtin: 'mobilenet-v2' }, { l2normalize: false });
  const rows: Float32Array[] = [];
  try {
    for (let i = 0; i < IMAGES.length; i += batchSize) rows.push(...(await embedder.embed(IMAGES.slice(i, i + batchSize))));
  } finally {
    embedder.dispose();
  }
  return rows;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  return worst;
}

describe('MobileNetV2 embeddings do not depend on the backend', () => {
  it('wasm, cpu and (where it loads) native TensorFlow agree within 1e-4 on 32 fixed images', async () => {
    const wasm = await embedOn('wasm', 32);
    expect(wasm).toHaveLength(32);
    expect(wasm[0]).toHaveLength(MOBILENET_V2_FEATURES);
    // Real features: non-negative (after ReLU6 and pooling) and different from image to image.
    expect(wasm.every((row) => row.every((v) => v >= 0 && v <= 6))).toBe(true);
    expect(maxAbsDiff([wasm[0]], [wasm[1]])).toBeGreaterThan(0.01);

    // The pure-JS backend is slowest on large batches (cache misses), so it gets small ones.
    const cpu = await embedOn('cpu', 4);
    const diffs: Record<string, number> = { cpu: maxAbsDiff(cpu, wasm) };
    expect(diffs.cpu).toBeLessThan(1e-4);

    let nativeLoads = true;
    try {
      await loadBackend('tensorflow');
    } catch {
      nativeLoads = false; // optional package; `npm run setup:tensorflow` provides it
    }
    if (nativeLoads) {
      diffs.tensorflow = maxAbsDiff(await embedOn('tensorflow', 32), wasm);
      expect(diffs.tensorflow).toBeLessThan(1e-4);
    }
    console.log(`max |difference| to wasm over 32 x 1280 features: ${JSON.stringify(diffs)}`);
  }, 300_000); // the pure-JS cpu backend needs ~1 s an image, more on a busy 2-core runner
});
