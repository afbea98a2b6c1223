import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedStagePlugin } from '../../src/stages/embed/embed-stage.plugin.ts';
import { stageHarness, type StageHarness } from '../stages/embed/support/stage-harness.ts';
import { syntheticImages } from './support/images.ts';
import { maxAbsDiff } from './support/max-abs-diff.ts';
import { exportOnnxFixtures, type OnnxFixtures } from './support/onnx-fixtures.ts';

/** The embed stage on an ONNX model: same batching, ordering and dead letters as on TF.js. */
const SIZE = 32;
const IMAGES = syntheticImages(11, SIZE, 3, 1415);
let harness: StageHarness;
let fixtures: OnnxFixtures;

beforeAll(async () => {
  harness = await stageHarness();
  fixtures = await exportOnnxFixtures(IMAGES);
  await mkdir(path.join(harness.dir, 'models'));
  // Relative to the pipeline file's directory, as a user writes it.
  for (const name of ['cnn_fp32', 'cnn_fp16', 'cnn_fixed_batch'] as const) await copyFile(fixtures.modelPath(name), path.join(harness.dir, 'models', `${name}.onnx`));
}, 120_000);
afterAll(async () => {
  await harness.close();
});

const config = (extra: Record<string, unknown> = {}) => ({
  model: { path: 'models/cnn_fp32.onnx', input: 'pixel_values', output: 'embedding' },
  onnx: { intraOpThreads: 1 },
  batchSize: 4,
  maxWaitMs: 20,
  l2normalize: false,
  ...extra,
});

describe('embed stage on an ONNX model', () => {
  it.each(['cnn_fp32', 'cnn_fixed_batch', 'cnn_fp16'] as const)('%s: every record gets its own embedding, in order, across full and partial batches; PyTorch agrees', async (name) => {
    const stage = await harness.create(embedStagePlugin, config({ model: { path: `models/${name}.onnx`, output: 'embedding' } }), `embed-${name}`);
    await stage.start!();
    expect(harness.logLines.some((l) => l.includes('onnxruntime-cpu') && l.includes(`embed-${name}`))).toBe(true);
    const out = await lastValueFrom(from(IMAGES.map((img, i) => harness.record(`img-${i}`, img))).pipe(stage.operator, toArray()));
    expect(out.map((r) => r.key)).toEqual(IMAGES.map((_, i) => `img-${i}`));
    const rows = out.map((r) => r.payload.embedding!);
    expect(rows.every((row) => row instanceof Float32Array && row.length === 12)).toBe(true);
    expect(maxAbsDiff(rows, await fixtures.torchRows(name))).toBeLessThan(name === 'cnn_fp16' ? 1e-2 : 1e-4);
    expect(out.every((r) => r.payload.pixels === undefined)).toBe(true);
    await stage.stop!();
  });

  it('dead-letters only the records whose pixels do not fit the model; the neighbours are embedded and unit length', async () => {
    const stage = await harness.create(embedStagePlugin, config({ l2normalize: true }), 'embed-bad');
    await stage.start!();
    const wrongSize = syntheticImages(1, SIZE / 2, 3, 6)[0];
    const grayscale = syntheticImages(1, SIZE, 1, 7)[0];
    const input = [
      harness.record('g0', IMAGES[0]),
      harness.record('wrong-size', wrongSize),
      harness.record('g1', IMAGES[1]),
      harness.record('grayscale', grayscale),
      harness.record('no-pixels', undefined),
      harness.record('g2', IMAGES[2]),
    ];
    const before = (await harness.deadLetters()).length;
    const out = await lastValueFrom(from(input).pipe(stage.operator, toArray()));
    expect(out.map((r) => r.key)).toEqual(['g0', 'g1', 'g2']);
    for (const r of out) expect(Math.hypot(...r.payload.embedding!)).toBeCloseTo(1, 5);
    const letters = (await harness.deadLetters()).slice(before);
    expect(letters.map((l) => [l.key, l.code])).toEqual([
      ['wrong-size', 'TS_ERR_EMBED_PIXELS_SHAPE'],
      ['grayscale', 'TS_ERR_EMBED_PIXELS_SHAPE'],
      ['no-pixels', 'TS_ERR_EMBED_NO_PIXELS'],
    ]);
    expect(letters[0].reason).toContain('32x32x3');
    await stage.stop!();
  });

  it('fails to start naming the option when a name is mistyped or an option belongs to TF.js models', async () => {
    const typo = await harness.create(embedStagePlugin, config({ model: { path: 'models/cnn_fp32.onnx', output: 'embeddings' } }));
    await expect(typo.start!()).rejects.toMatchObject({ code: 'TS_ERR_EMBED_ONNX_OUTPUT', where: 'with.model.output', message: expect.stringContaining('did you mean "embedding"?') });
    const tfOption = await harness.create(embedStagePlugin, config({ model: { path: 'models/cnn_fp32.onnx', outputNode: 'embedding' } }));
    await expect(tfOption.start!()).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_CHOICE', where: 'with.model.outputNode', message: expect.stringContaining('model.output') });
    const missing = await harness.create(embedStagePlugin, config({ model: { path: 'models/absent.onnx' } }));
    await expect(missing.start!()).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_LOAD', message: expect.stringContaining('absent.onnx') });
  });

  it('refuses an unknown ONNX setting or execution provider at config validation, with a suggestion', () => {
    expect(embedStagePlugin.configSchema.validate(config({ onnx: { intraOpThread: 2 } })).issues[0]).toMatchObject({ code: 'TS_ERR_CONFIG_UNKNOWN_KEY', path: '$.onnx.intraOpThread', message: expect.stringContaining('did you mean "intraOpThreads"') });
    expect(embedStagePlugin.configSchema.validate(config({ onnx: { executionProvider: 'cdua' } })).issues[0]).toMatchObject({ code: 'TS_ERR_CONFIG_ENUM', path: '$.onnx.executionProvider' });
  });
});
