import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxEmbedder } from '../../src/embedding/onnx/onnx-embedder.ts';
import type { DecodedPixels } from '../../src/runtime/contracts/record.ts';
import { syntheticImages } from './support/images.ts';
import { maxAbsDiff } from './support/max-abs-diff.ts';
import { exportOnnxFixtures, type FixtureModel, type OnnxFixtures } from './support/onnx-fixtures.ts';

/**
 * ONNX Runtime (onnxruntime-node) against PyTorch on the same exported models and images: small
 * CNNs with seeded weights, exported at test time by fixtures/export_onnx_models.py.
 */
const IMAGES = syntheticImages(10, 32, 3, 1414);
let fixtures: OnnxFixtures;

beforeAll(async () => {
  fixtures = await exportOnnxFixtures(IMAGES);
}, 120_000);

async function embedInBatches(name: FixtureModel, batch: number, images: readonly DecodedPixels[] = IMAGES, extra: { inputSize?: number } = {}): Promise<Float32Array[]> {
  const embedder = await OnnxEmbedder.open({ path: fixtures.modelPath(name), output: 'embedding', ...extra }, { intraOpThreads: 1 });
  try {
    const rows: Float32Array[] = [];
    for (let i = 0; i < images.length; i += batch) rows.push(...(await embedder.embed(images.slice(i, i + batch))));
    return rows;
  } finally {
    await embedder.dispose();
  }
}

function toChw(image: DecodedPixels): DecodedPixels {
  const { width, height, channels, data } = image;
  const out = new Float32Array(data.length);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < channels; c++) out[c * width * height + p] = data[p * channels + c];
  return { width, height, channels, data: out, layout: 'chw' };
}

describe('ONNX Runtime embeddings equal PyTorch on the same exported model', () => {
  it.each([
    ['cnn_fp32', 'float32 NCHW, dynamic batch'],
    ['cnn_nhwc', 'float32 NHWC'],
    ['cnn_fixed_batch', 'batch fixed at 4 in the graph: fed in chunks of 4, the last one padded'],
  ] as [FixtureModel, string][])('%s (%s) within 1e-4, whatever the batch size', async (name) => {
    const torch = await fixtures.torchRows(name);
    for (const batch of [1, 3, 10]) {
      const rows = await embedInBatches(name, batch);
      expect(rows).toHaveLength(IMAGES.length);
      expect(rows[0]).toHaveLength(12);
      expect(maxAbsDiff(rows, torch)).toBeLessThan(1e-4);
    }
    // Real features: each image gets its own.
    expect(maxAbsDiff([torch[0]], [torch[1]])).toBeGreaterThan(0.01);
  });

  it('cnn_open_size (height and width open in the graph) takes the size from model.inputSize', async () => {
    expect(maxAbsDiff(await embedInBatches('cnn_open_size', 4, IMAGES, { inputSize: 32 }), await fixtures.torchRows('cnn_open_size'))).toBeLessThan(1e-4);
    await expect(OnnxEmbedder.open({ path: fixtures.modelPath('cnn_open_size') }, { where: 'with.model' })).rejects.toMatchObject({
      code: 'TS_ERR_EMBED_INPUT_SIZE',
      where: 'with.model.inputSize',
    });
  });

  it('cnn_fp16 (float16 weights, input and output) within 1e-2', async () => {
    const embedder = await OnnxEmbedder.open({ path: fixtures.modelPath('cnn_fp16') });
    expect(embedder.signature.inputType).toBe('float16');
    await embedder.dispose();
    const rows = await embedInBatches('cnn_fp16', 4);
    expect(maxAbsDiff(rows, await fixtures.torchRows('cnn_fp16'))).toBeLessThan(1e-2);
    expect(maxAbsDiff(rows, await fixtures.torchRows('cnn_fp32'))).toBeLessThan(1e-2);
  });

  it('cnn_fp16_graph (the float32 graph converted to float16 throughout, as converters leave it) within 1e-2', async () => {
    const embedder = await OnnxEmbedder.open({ path: fixtures.modelPath('cnn_fp16_graph') });
    expect(embedder.signature.inputType).toBe('float16');
    await embedder.dispose();
    const rows = await embedInBatches('cnn_fp16_graph', 4);
    const diff = maxAbsDiff(rows, await fixtures.torchRows('cnn_fp16_graph'));
    console.log(`float16 graph: max |difference| to PyTorch float32 ${diff}`);
    expect(diff).toBeLessThan(1e-2);
    expect(diff).toBeGreaterThan(0); // really computed in float16
  });

  it('takes pixels in either layout the decode stage writes (hwc or chw) for either model layout', async () => {
    const chw = IMAGES.map(toChw);
    expect(maxAbsDiff(await embedInBatches('cnn_fp32', 5, chw), await fixtures.torchRows('cnn_fp32'))).toBeLessThan(1e-4);
    expect(maxAbsDiff(await embedInBatches('cnn_nhwc', 5, chw), await fixtures.torchRows('cnn_nhwc'))).toBeLessThan(1e-4);
  });

  it('reads input, layout, size and element type from the model, and names a mistyped input or output with a suggestion', async () => {
    const embedder = await OnnxEmbedder.open({ path: fixtures.modelPath('cnn_nhwc') });
    expect(embedder.signature).toMatchObject({ input: 'image', output: 'embedding', layout: 'nhwc', inputType: 'float32', geometry: { width: 32, height: 32, channels: 3 } });
    expect(embedder.dim).toBe(12);
    await embedder.dispose();

    const logits = await OnnxEmbedder.open({ path: fixtures.modelPath('cnn_fp32'), output: 'logits' });
    expect(logits.dim).toBe(3);
    await logits.dispose();

    await expect(OnnxEmbedder.open({ path: fixtures.modelPath('cnn_fp32'), output: 'embeding' }, { where: 'with.model' })).rejects.toMatchObject({
      code: 'TS_ERR_EMBED_ONNX_OUTPUT',
      where: 'with.model.output',
      message: expect.stringContaining('did you mean "embedding"?'),
    });
    await expect(OnnxEmbedder.open({ path: fixtures.modelPath('cnn_fp32'), input: 'pixel_value' }, { where: 'with.model' })).rejects.toMatchObject({
      code: 'TS_ERR_EMBED_ONNX_INPUT',
      where: 'with.model.input',
      message: expect.stringContaining('did you mean "pixel_values"?'),
    });
    await expect(OnnxEmbedder.open({ path: fixtures.modelPath('cnn_fp32'), layout: 'nhwc' }, { where: 'with.model' })).rejects.toMatchObject({
      code: 'TS_ERR_EMBED_ONNX_INPUT',
      where: 'with.model.layout',
    });
    await expect(OnnxEmbedder.open({ path: `${fixtures.dir}/absent.onnx` }, { where: 'with.model' })).rejects.toMatchObject({
      code: 'TS_ERR_EMBED_MODEL_LOAD',
      where: 'with.model.path',
      message: expect.stringContaining('absent.onnx'),
    });
  });
});
