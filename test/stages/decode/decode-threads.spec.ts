/**
 * The decode stage's `threads`: the fast path on worker threads decodes to the same pixels, in the
 * same order, with the same dead letters as on the pipeline's thread, and what the threads leave
 * (too large, damaged) still goes through sharp.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodePool } from '../../../src/stages/decode/worker/decode-pool.ts';
import { resolveDecodeSpec } from '../../../src/stages/decode/decode-spec.ts';
import { noisyJpeg, solidImage, writeFileIn } from '../image-fixtures.ts';
import { runStages, tempDir } from '../stage-pipeline.ts';

describe('decode stage on worker threads', () => {
  it('gives the pixels, order and dead letters of the pipeline-thread decode, and says it runs on threads', async () => {
    const dir = await tempDir('decode-threads-');
    const keys: string[] = [];
    const add = async (name: string, bytes: Buffer) => {
      keys.push(name);
      await writeFileIn(join(dir, 'images', name), bytes);
    };
    for (let i = 0; i < 12; i++) {
      await add(`${String(i).padStart(2, '0')}-small.jpg`, await noisyJpeg(40 + 16 * i, 56));
      await add(`${String(i).padStart(2, '0')}-solid.png`, await solidImage('png', 12, 12, { r: 20 * i, g: 3 * i, b: 250 - 9 * i }));
    }
    await add('20-large.jpg', await noisyJpeg(900, 700)); // over the fast path's limit: sharp
    const whole = await noisyJpeg(64, 64);
    await add('21-truncated.jpg', whole.subarray(0, whole.length >> 1));
    await add('22-not-an-image.jpg', Buffer.from('not an image at all'));

    const run = (threads: number) => runStages(dir, { use: 'files', with: { folder: 'images' } }, [{ use: 'decode', with: { size: 32, threads } }], { logLevel: 'info' });
    const onThreads = await run(2);
    const here = await run(0);
    expect(onThreads.logs).toContain('on 2 worker threads');
    expect(here.logs).not.toContain('worker thread');
    expect(onThreads.lines.map((l) => l.key)).toEqual(keys.filter((k) => !k.startsWith('21') && !k.startsWith('22')));
    expect(onThreads.lines.map((l) => l.pixels.data)).toEqual(here.lines.map((l) => l.pixels.data));
    // Both runs append to one dead-letter file, each in the order its failures settled.
    const codes = (letters: Array<Record<string, any>>) => letters.map((d) => `${d.key} ${d.code}`).sort();
    const threadLetters = onThreads.deadLetters;
    expect(codes(threadLetters)).toEqual(['21-truncated.jpg TS_ERR_DECODE_TRUNCATED', '22-not-an-image.jpg TS_ERR_DECODE_UNSUPPORTED_FORMAT']);
    expect(codes(here.deadLetters.slice(threadLetters.length))).toEqual(codes(threadLetters));
  });

  it('a pool whose threads have stopped refuses with a coded error (the stage then decodes with sharp)', async () => {
    const spec = resolveDecodeSpec({ preset: 'mobilenet-v2', size: 16 });
    const pool = await DecodePool.start(1, { spec, maxPixels: 1_000_000, formats: ['jpeg', 'png'] });
    const into = () => new Float32Array(new SharedArrayBuffer(16 * 16 * 3 * 4));
    const target = into();
    const pixels = await pool.decode(await noisyJpeg(48, 40), target);
    expect(pixels).toMatchObject({ width: 16, height: 16, channels: 3 });
    // Written into the caller's shared buffer, handed back as that very array.
    expect(pixels!.data).toBe(target);
    expect(target.some((v) => v !== 0)).toBe(true);
    expect(await pool.decode(Buffer.from('neither png nor jpeg'), into())).toBeNull();
    await pool.close();
    await expect(pool.decode(await solidImage('png', 8, 8, { r: 0, g: 0, b: 0 }), into())).rejects.toMatchObject({ code: 'TS_ERR_DECODE_WORKER_LOST' });
  });
});
