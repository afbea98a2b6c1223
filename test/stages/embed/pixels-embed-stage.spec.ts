import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/numeric/seeded-random.ts';
import type { DecodedPixels } from '../../../src/runtime/contracts/record.ts';
import { pixelsEmbedStagePlugin } from '../../../src/stages/embed/pixels-embed.plugin.ts';
import { stageHarness, type StageHarness } from './support/stage-harness.ts';

/** 28x28 grayscale images: one of a few templates plus noise, like a small MNIST-family set. */
function digits(count: number, seed: number): DecodedPixels[] {
  const random = new SeededRandom(seed);
  const templates = Array.from({ length: 5 }, () => Float32Array.from({ length: 784 }, () => (random.next() < 0.3 ? random.next() : 0)));
  return Array.from({ length: count }, (_, i) => {
    const t = templates[i % templates.length];
    return { width: 28, height: 28, channels: 1, data: t.map((v) => (v === 0 ? 0 : Math.min(1, v + 0.1 * random.normal()))) };
  });
}

let harness: StageHarness;
beforeEach(async () => {
  harness = await stageHarness(300);
});
afterEach(async () => {
  await harness.close();
});

describe('pixels-embed stage', () => {
  it('holds the warm-up sample, fits PCA (early, when the in-flight bound pauses the source), then embeds every record in order', async () => {
    const stage = await harness.create(pixelsEmbedStagePlugin, { projection: 'pca', dim: 16, warmupRecords: 1000 }, 'pixels');
    const images = digits(2500, 1);
    const out = await lastValueFrom(
      harness.boundedSource(images.length, (i) => harness.record(`d${i}`, images[i])).pipe(
        stage.operator,
        tap((r) => r.ack.ack()),
        toArray(),
      ),
    );
    expect(out.map((r) => r.key)).toEqual(images.map((_, i) => `d${i}`));
    expect(out.every((r) => r.payload.embedding?.length === 16 && Math.abs(Math.hypot(...r.payload.embedding) - 1) < 1e-5)).toBe(true);
    const fitted = harness.logLines.find((l) => l.includes('PCA fitted'));
    expect(fitted).toBeDefined();
    // maxInFlight 300 < warmupRecords 1000: the fit must not wait for records that cannot come.
    expect(JSON.parse(fitted!).images).toBeLessThanOrEqual(300);
    expect(JSON.parse(fitted!).explainedVariance).toBeGreaterThan(0.5);
  });

  it('a restored stage embeds in the same space without a new warm-up', async () => {
    const images = digits(400, 2);
    const first = await harness.create(pixelsEmbedStagePlugin, { projection: 'pca', dim: 8, warmupRecords: 100 });
    const a = await lastValueFrom(from(images.map((img, i) => harness.record(`a${i}`, img))).pipe(first.operator, toArray()));
    const state = JSON.parse(JSON.stringify(await first.snapshot!()));

    const second = await harness.create(pixelsEmbedStagePlugin, { projection: 'pca', dim: 8, warmupRecords: 100 });
    await second.restore!(state);
    const b = await lastValueFrom(from(images.slice(0, 3).map((img, i) => harness.record(`b${i}`, img))).pipe(second.operator, toArray()));
    expect(b).toHaveLength(3);
    b.forEach((r, i) => expect(Array.from(r.payload.embedding!)).toEqual(Array.from(a[i].payload.embedding!)));
  });

  it('fits on what there is when the input ends before the warm-up is full; bad records are dead-lettered, not sampled', async () => {
    const stage = await harness.create(pixelsEmbedStagePlugin, { projection: 'pca', dim: 4, warmupRecords: 1000 }, 'pixels-short');
    const images = digits(50, 3);
    const input = images.map((img, i) => harness.record(`s${i}`, img));
    input.splice(10, 0, harness.record('blank', undefined), harness.record('small', { width: 14, height: 14, channels: 1, data: new Float32Array(196) }));
    const out = await lastValueFrom(from(input).pipe(stage.operator, toArray()));
    expect(out).toHaveLength(50);
    expect((await harness.deadLetters()).map((l) => [l.key, l.code])).toEqual([
      ['blank', 'TS_ERR_EMBED_NO_PIXELS'],
      ['small', 'TS_ERR_EMBED_PIXELS_SHAPE'],
    ]);
  });

  it('random projection needs no warm-up and is the same in every process for one seed', async () => {
    const images = digits(20, 4);
    const run = async () => {
      const stage = await harness.create(pixelsEmbedStagePlugin, { projection: 'random', dim: 32, seed: 5, l2normalize: false });
      return lastValueFrom(from(images.map((img, i) => harness.record(`p${i}`, img))).pipe(stage.operator, toArray()));
    };
    const [x, y] = [await run(), await run()];
    x.forEach((r, i) => expect(Array.from(r.payload.embedding!)).toEqual(Array.from(y[i].payload.embedding!)));
  });
});
