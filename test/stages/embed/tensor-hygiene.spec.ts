import { lastValueFrom, reduce, tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedPixels } from '../../../src/runtime/contracts/record.ts';
import { embedStagePlugin } from '../../../src/stages/embed/embed-stage.plugin.ts';
import { tf } from '../../../src/tf/tf.ts';
import { syntheticImages } from '../../embedding/support/images.ts';
import type { StageHarness } from './support/stage-harness.ts';
import { tinyModelHarness } from './support/tiny-model-harness.ts';

const IMAGES = 20_000;
const WARM_UP = 2_000;
const SIZE = 28;

let harness: StageHarness;
beforeAll(async () => void (harness = await tinyModelHarness(SIZE)));
afterAll(() => harness.close());

describe('embed stage tensor hygiene', () => {
  it(`embeds ${IMAGES.toLocaleString('en')} images with no tensor left behind and flat memory after warm-up`, async () => {
    // The fastest backend here, as a long-running pipeline would pick.
    // On the pipeline's thread: this counts the tensors of the engine that runs the model.
    const stage = await harness.create(embedStagePlugin, { model: { path: 'tiny/model.json', outputLayer: 'features' }, batchSize: 64, maxWaitMs: 5, thread: 'main' });
    await stage.start!();
    const tensorsAtStart = tf.memory().numTensors;
    const bytesAtStart = tf.memory().numBytes;

    // A few distinct images reused, copied per record as a decoder would hand them over.
    const palette = syntheticImages(16, SIZE, 1, 13);
    const pixels = (i: number): DecodedPixels => ({ ...palette[i % palette.length], data: palette[i % palette.length].data.slice() });
    let rssAfterWarmUp = 0;
    let tensorsAfterWarmUp = 0;
    const embedded = await lastValueFrom(
      harness.boundedSource(IMAGES, (i) => harness.record(`r${i}`, pixels(i))).pipe(
        stage.operator,
        tap((record) => {
          record.ack.ack();
          if (record.key === `r${WARM_UP}`) {
            rssAfterWarmUp = process.memoryUsage().rss;
            tensorsAfterWarmUp = tf.memory().numTensors;
          }
        }),
        reduce((count, record) => count + (record.payload.embedding?.length === 8 ? 1 : 0), 0),
      ),
    );
    const rssAtEnd = process.memoryUsage().rss;

    expect(embedded).toBe(IMAGES);
    expect(tensorsAfterWarmUp).toBe(tensorsAtStart);
    expect(tf.memory().numTensors).toBe(tensorsAtStart);
    expect(tf.memory().numBytes).toBe(bytesAtStart);
    // 18,000 more images through the model: a leak of even one 64-row output per batch would be
    // ~300 batches of tensors; allow GC slack, not growth proportional to the stream.
    expect(rssAtEnd - rssAfterWarmUp).toBeLessThan(96 * 1024 * 1024);
    expect(harness.limiter.inFlight).toBe(0);
    await stage.stop!();
    // Stopping frees the model: its weight tensors when it runs layer by layer; on native
    // TensorFlow it runs as one session whose weights are no TF.js tensors (nothing to count).
    expect(tf.memory().numTensors).toBeLessThanOrEqual(tensorsAtStart);
  });
});
