import { lastValueFrom, reduce, tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedPixels } from '../../../src/runtime/contracts/record.ts';
import type { StageInstance } from '../../../src/runtime/contracts/plugin.ts';
import { embedStagePlugin } from '../../../src/stages/embed/embed-stage.plugin.ts';
import { tf } from '../../../src/tf/tf.ts';
import { syntheticImages } from '../../embedding/support/images.ts';
import type { StageHarness } from './support/stage-harness.ts';
import { tinyModelHarness } from './support/tiny-model-harness.ts';

const SIZE = 28;
let harness: StageHarness;
beforeAll(async () => void (harness = await tinyModelHarness(SIZE)));
afterAll(() => harness.close());

async function tensorsAlive(thread: string): Promise<number | undefined> {
  const line = (await harness.metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`temi_tensors_alive{thread="${thread}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

const config = (thread: 'worker' | 'main') => ({ model: { path: 'tiny/model.json', outputLayer: 'features' }, batchSize: 64, maxWaitMs: 5, thread, backend: 'cpu' });

async function embed(stage: StageInstance, count: number): Promise<number> {
  const palette = syntheticImages(8, SIZE, 1, 13);
  const pixels = (i: number): DecodedPixels => ({ ...palette[i % palette.length], data: palette[i % palette.length].data.slice() });
  return lastValueFrom(
    harness.boundedSource(count, (i) => harness.record(`r${i}`, pixels(i))).pipe(
      stage.operator,
      tap((record) => record.ack.ack()),
      reduce((n, record) => n + (record.payload.embedding ? 1 : 0), 0),
    ),
  );
}

// temi_tensors_alive counted only the pipeline's thread; with thread "worker" (the default) the
// model's tensors live in the embed worker's own engine, where a leak was invisible.
describe('temi_tensors_alive with the embed model in a worker', () => {
  it('shows the worker\'s tensors as thread="embed": the model\'s weights, flat while it embeds', async () => {
    // What the model holds on an engine, measured on this thread's (the same backend, cpu).
    const inThread = await harness.create(embedStagePlugin, config('main'), 'embed-main');
    const before = tf.memory().numTensors;
    await inThread.start!();
    const weights = tf.memory().numTensors - before;
    await inThread.stop!();
    expect(weights).toBeGreaterThan(0);

    const stage = await harness.create(embedStagePlugin, config('worker'), 'embed-worker');
    const mainBefore = tf.memory().numTensors;
    await stage.start!();
    expect(await tensorsAlive('embed')).toBe(weights);
    expect(await embed(stage, 640)).toBe(640);
    await new Promise((r) => setTimeout(r, 1100));
    console.log(`temi_tensors_alive: embed ${await tensorsAlive('embed')} (the model's ${weights} weights), main ${await tensorsAlive('main')}`);
    expect(await tensorsAlive('embed')).toBe(weights);
    // None of them on the pipeline's thread: its own figure did not move.
    expect(tf.memory().numTensors).toBe(mainBefore);
    expect(await tensorsAlive('main')).toBe(mainBefore);
    await stage.stop!();
  });
});
