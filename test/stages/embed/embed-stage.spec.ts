import path from 'node:path';
import { Subject, firstValueFrom, from, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfEmbedder } from '../../../src/embedding/tf-embedder.ts';
import type { StreamRecord } from '../../../src/runtime/contracts/record.ts';
import { embedStagePlugin } from '../../../src/stages/embed/embed-stage.plugin.ts';
import { syntheticImages } from '../../embedding/support/images.ts';
import { buildTinyLayersModel, saveLayersModel } from '../../embedding/support/tiny-models.ts';
import { stageHarness, type StageHarness } from './support/stage-harness.ts';

let harness: StageHarness;
const SIZE = 16;

beforeAll(async () => {
  harness = await stageHarness();
  const model = buildTinyLayersModel(SIZE, 3, 21);
  // Relative to the pipeline file's directory, as a user would write it.
  await saveLayersModel(model, path.join(harness.dir, 'models', 'tiny'));
  model.dispose();
});
afterAll(async () => {
  await harness.close();
});

const config = (extra: Record<string, unknown> = {}) => ({
  model: { path: 'models/tiny/model.json', outputLayer: 'features' },
  backend: 'wasm',
  batchSize: 4,
  maxWaitMs: 20,
  l2normalize: false,
  ...extra,
});

describe('embed stage', () => {
  it('logs the backend it chose, embeds every record with its own image, in order, across full and partial batches', async () => {
    const stage = await harness.create(embedStagePlugin, config({ backend: 'auto' }), 'embed');
    await stage.start!();
    expect(harness.logLines.some((l) => l.includes('TensorFlow.js backend:'))).toBe(true);
    const images = syntheticImages(11, SIZE, 3, 3);
    const out = await lastValueFrom(from(images.map((img, i) => harness.record(`img-${i}`, img))).pipe(stage.operator, toArray()));
    expect(out.map((r) => r.key)).toEqual(images.map((_, i) => `img-${i}`));

    const reference = await TfEmbedder.open({ path: path.join(harness.dir, 'models/tiny/model.json'), outputLayer: 'features' });
    const expected = await reference.embed(images);
    reference.dispose();
    out.forEach((r, i) => {
      expect(r.payload.embedding).toBeInstanceOf(Float32Array);
      expect(r.payload.embedding!.length).toBe(8);
      for (let j = 0; j < 8; j++) expect(r.payload.embedding![j]).toBeCloseTo(expected[i][j], 5);
      expect(r.payload.pixels).toBeUndefined();
    });
    await stage.stop!();
  });

  it('runs the model on a worker thread by default and on the pipeline\'s thread with thread "main", with the same rows', async () => {
    const images = syntheticImages(6, SIZE, 3, 8);
    const rows: Float32Array[][] = [];
    for (const thread of ['worker', 'main'] as const) {
      const stage = await harness.create(embedStagePlugin, config({ backend: 'auto', ...(thread === 'main' ? { thread } : {}) }), `embed-${thread}`);
      await stage.start!();
      expect(harness.logLines.some((l) => l.includes('embed backend chosen') && l.includes(`"thread":"${thread}"`))).toBe(true);
      const out = await lastValueFrom(from(images.map((img, i) => harness.record(`${thread}-${i}`, img))).pipe(stage.operator, toArray()));
      expect(out.map((r) => r.key)).toEqual(images.map((_, i) => `${thread}-${i}`));
      rows.push(out.map((r) => r.payload.embedding!));
      await stage.stop!();
    }
    rows[0].forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(rows[1][i][j], 5)));
  });

  it('flushes a partial batch after maxWaitMs while the source stays open', async () => {
    const stage = await harness.create(embedStagePlugin, config({ batchSize: 64, maxWaitMs: 30 }));
    await stage.start!();
    const input = new Subject<StreamRecord>();
    const firstThree = firstValueFrom(input.pipe(stage.operator, take(3), toArray()));
    syntheticImages(3, SIZE, 3, 4).forEach((img, i) => input.next(harness.record(`quiet-${i}`, img)));
    const out = await firstThree; // resolves only if the 3-record batch left without completion
    expect(out.map((r) => r.key)).toEqual(['quiet-0', 'quiet-1', 'quiet-2']);
    expect(out.every((r) => r.payload.embedding?.length === 8)).toBe(true);
    input.complete();
    await stage.stop!();
  });

  it('dead-letters only the bad records of a batch, with a code saying what is wrong; the neighbours are embedded', async () => {
    const stage = await harness.create(embedStagePlugin, config({ l2normalize: true }), 'embed-bad');
    await stage.start!();
    const good = syntheticImages(6, SIZE, 3, 5);
    const wrongSize = syntheticImages(1, SIZE * 2, 3, 6)[0];
    const grayscale = syntheticImages(1, SIZE, 1, 7)[0];
    const truncated = { ...good[0], data: good[0].data.subarray(10) };
    const input = [
      harness.record('g0', good[0]),
      harness.record('no-pixels', undefined),
      harness.record('g1', good[1]),
      harness.record('wrong-size', wrongSize),
      harness.record('g2', good[2]),
      harness.record('grayscale', grayscale),
      harness.record('truncated', truncated),
      harness.record('g3', good[3]),
    ];
    const before = (await harness.deadLetters()).length;
    const out = await lastValueFrom(from(input).pipe(stage.operator, toArray()));
    expect(out.map((r) => r.key)).toEqual(['g0', 'g1', 'g2', 'g3']);
    for (const r of out) {
      const norm = Math.hypot(...r.payload.embedding!);
      expect(norm).toBeCloseTo(1, 5);
    }
    const letters = (await harness.deadLetters()).slice(before);
    expect(letters.map((l) => [l.key, l.code, l.stage])).toEqual([
      ['no-pixels', 'TS_ERR_EMBED_NO_PIXELS', 'embed-bad'],
      ['wrong-size', 'TS_ERR_EMBED_PIXELS_SHAPE', 'embed-bad'],
      ['grayscale', 'TS_ERR_EMBED_PIXELS_SHAPE', 'embed-bad'],
      ['truncated', 'TS_ERR_EMBED_PIXELS_LENGTH', 'embed-bad'],
    ]);
    expect(letters[1].reason).toContain('16x16x3');
    expect(letters[1].reason).toContain('32x32x3');
    expect(input.filter((r) => !r.key.startsWith('g')).every((r) => r.ack.acked)).toBe(true);
    await stage.stop!();
  });

  it('fails to start with the reason when the model cannot be loaded', async () => {
    const missing = await harness.create(embedStagePlugin, config({ model: { path: 'models/absent/model.json' } }));
    await expect(missing.start!()).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_LOAD', message: expect.stringContaining('absent') });
    const both = await harness.create(embedStagePlugin, config({ model: { path: 'models/tiny/model.json', builtin: 'mobilenet-v2' } }));
    await expect(both.start!()).rejects.toMatchObject({ code: 'TS_ERR_EMBED_MODEL_CHOICE' });
  });

  it('rejects an unknown backend name at config validation', () => {
    const { issues } = embedStagePlugin.configSchema.validate(config({ backend: 'wasn' }));
    expect(issues[0]).toMatchObject({ code: 'TS_ERR_CONFIG_ENUM', path: '$.backend', message: expect.stringContaining('did you mean "wasm"') });
  });
});
