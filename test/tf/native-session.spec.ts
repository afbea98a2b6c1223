/**
 * Our addon's SavedModel session (src/tf/native-session.ts): the caller's buffer is the input
 * tensor, and it answers what tfjs-node's loadSavedModel answers on the same SavedModel, leaves
 * the input as it was, and says what is wrong when it is misused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLayersSavedModel } from '../../src/embedding/layers-saved-model.ts';
import { loadSavedModel } from '../../src/embedding/load-model.ts';
import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import { loadBackend } from '../../src/tf/backends.ts';
import { openNativeSession, tensorBuffer, type NativeSession } from '../../src/tf/native-session.ts';
import { TEMI_ADDON_FILE, temiAddon } from '../../src/tf/temi-addon.ts';
import { tf } from '../../src/tf/tf.ts';
import { buildTinyLayersModel } from '../embedding/support/tiny-models.ts';

const SIZE = 16;
let dir: string;
let nodes: { input: string; output: string };
let session: NativeSession;

function images(count: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: count * SIZE * SIZE * 3 }, () => random.next());
}

beforeAll(async () => {
  await loadBackend('tensorflow');
  dir = mkdtempSync(path.join(tmpdir(), 'temi-native-session-'));
  const model = buildTinyLayersModel(SIZE, 3, 4);
  nodes = writeLayersSavedModel(model, dir, 'features');
  model.dispose();
  const opened = openNativeSession(dir, { tag: 'serve', ...nodes });
  if ('unavailable' in opened) throw new Error(`the addon's session is unavailable: ${opened.unavailable} (npm run setup builds it)`);
  session = opened;
});
afterAll(() => {
  session?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("the addon's SavedModel session", () => {
  it("answers what tfjs-node's SavedModel answers, and leaves its input as it was", async () => {
    const input = tensorBuffer(3 * SIZE * SIZE * 3);
    input.set(images(3, 1));
    const before = Float32Array.from(input);
    const rows = session.run(input, [3, SIZE, SIZE, 3]);
    const reference = await loadSavedModel(dir);
    const expected = tf.tidy(() => (reference.predict(tf.tensor4d(before, [3, SIZE, SIZE, 3]), {}) as tf.Tensor).dataSync());
    reference.dispose();
    expect(rows).toHaveLength(3 * 8);
    expect(Math.max(...rows.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-6);
    expect(input).toEqual(before);
    // The output is a copy: the next run does not write over it.
    const again = Float32Array.from(rows);
    session.run(input.fill(0), [3, SIZE, SIZE, 3]);
    expect(rows).toEqual(again);
  });

  it('hands out buffers TensorFlow takes as they are, and takes any other Float32Array by copying it', () => {
    const addon = temiAddon().exports!;
    const aligned = tensorBuffer(2 * SIZE * SIZE * 3 + 1);
    expect(addon.isAligned(aligned)).toBe(true);
    aligned.set(images(2, 2), 1);
    // One float in: 4 bytes past a 64-byte boundary.
    const unaligned = aligned.subarray(1);
    expect(addon.isAligned(unaligned)).toBe(false);
    const fromUnaligned = session.run(unaligned, [2, SIZE, SIZE, 3]);
    const fromPlain = session.run(images(2, 2), [2, SIZE, SIZE, 3]);
    expect(fromUnaligned).toEqual(fromPlain);
  });

  it("keeps a tensorBuffer's alignment when the buffer is transferred to another thread (as the embed worker gets its batches)", async () => {
    const buffer = tensorBuffer(16 * 224 * 224 * 3);
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const addon = { exports: {} };
       process.dlopen(addon, ${JSON.stringify(TEMI_ADDON_FILE)});
       parentPort.once('message', (array) => parentPort.postMessage(addon.exports.isAligned(array) && array.length === ${buffer.length}));`,
      { eval: true },
    );
    const answer = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    worker.postMessage(buffer, [buffer.buffer as ArrayBuffer]);
    expect(await answer).toBe(true);
    await worker.terminate();
  });

  it('says what is wrong with a call, with a coded error, and keeps working after it', () => {
    const input = images(1, 3);
    expect(() => session.run(input, [2, SIZE, SIZE, 3])).toThrow(/dims hold 1536 values, the input 768/);
    expect(() => session.run(input, [1, SIZE + 1, SIZE, 3])).toThrow(/dims hold 816 values/);
    try {
      session.run(new Float32Array(4), [1, 2, 2, 1]);
      expect.unreachable();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('TS_ERR_NATIVE_SESSION');
      // TensorFlow's own words: the graph takes 3 channels.
      expect((error as Error).message).toMatch(/the session failed: .*/);
    }
    expect(session.run(input, [1, SIZE, SIZE, 3])).toHaveLength(8);
  });

  it('names the node or directory it cannot find, and refuses to run once disposed', () => {
    expect(() => openNativeSession(dir, { tag: 'serve', input: 'pixels', output: nodes.output })).toThrow(/the graph has no node "pixels"/);
    expect(() => openNativeSession(path.join(dir, 'missing'), { tag: 'serve', ...nodes })).toThrow(/could not load the SavedModel in .*missing/);
    const opened = openNativeSession(dir, { tag: 'serve', ...nodes });
    if ('unavailable' in opened) throw new Error(opened.unavailable);
    opened.dispose();
    expect(() => opened.run(images(1, 4), [1, SIZE, SIZE, 3])).toThrow(/disposed/);
  });
});
