import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { idxImages, noisyJpeg, solidImage, writeFileIn } from '../image-fixtures.ts';
import { runStages, tempDir } from '../stage-pipeline.ts';

describe('decode stage in a pipeline', () => {
  it('keeps arrival order while decoding several images at once', async () => {
    const dir = await tempDir('decode-order-');
    const keys: string[] = [];
    for (let i = 0; i < 24; i++) {
      // Big noisy images interleaved with tiny ones, so later records often finish first.
      const bytes = i % 3 === 0 ? await noisyJpeg(900, 700) : await solidImage('png', 10, 10, { r: i, g: i, b: i });
      const key = `${String(i).padStart(2, '0')}.${i % 3 === 0 ? 'jpg' : 'png'}`;
      await writeFileIn(join(dir, 'images', key), bytes);
      keys.push(key);
    }
    const { lines, deadLetters } = await runStages(dir, { use: 'files', with: { folder: 'images' } }, [{ use: 'decode', with: { size: 32, concurrency: 6 } }]);
    expect(deadLetters).toEqual([]);
    expect(lines.map((l) => l.key)).toEqual(keys);
    expect(lines.every((l) => l.pixels.width === 32 && l.pixels.channels === 3)).toBe(true);
  });

  it('says at start which decode path it runs on, and decodes small JPEGs to the same pixels on it as with sharp', async () => {
    const dir = await tempDir('decode-path-');
    const keys: string[] = [];
    for (let i = 0; i < 6; i++) {
      keys.push(`${i}.jpg`);
      await writeFileIn(join(dir, 'images', `${i}.jpg`), await noisyJpeg(40 + i * 20, 48));
    }
    const run = (decoder: 'auto' | 'sharp') => runStages(dir, { use: 'files', with: { folder: 'images' } }, [{ use: 'decode', with: { size: 32, decoder } }], { logLevel: 'info' });
    const auto = await run('auto');
    expect(auto.logs).toContain('decode fast path: native (libjpeg-turbo, libdeflate, native reduce)');
    const sharpOnly = await run('sharp');
    expect(sharpOnly.logs).not.toContain('decode fast path');
    expect(auto.lines.map((l) => l.key)).toEqual(keys);
    expect(auto.lines.map((l) => l.pixels.data)).toEqual(sharpOnly.lines.map((l) => l.pixels.data));
  });

  it('regression: preset mnist passes 8x8 IDX rows through at their own size, as documented (they came out 28x28 = 784 values)', async () => {
    const dir = await tempDir('decode-mnist-8x8-');
    await writeFileIn(join(dir, 'digits-idx3-ubyte'), idxImages(3, 8, 8, (n, i) => (n * 64 + i) % 256));
    const { lines } = await runStages(dir, { use: 'files', with: { idx: { images: 'digits-idx3-ubyte' } } }, [{ use: 'decode', with: { preset: 'mnist' } }]);
    expect(lines.map((l) => [l.pixels.width, l.pixels.height, l.pixels.channels])).toEqual([
      [8, 8, 1],
      [8, 8, 1],
      [8, 8, 1],
    ]);
    // An explicit size still resizes them.
    const sized = await runStages(dir, { use: 'files', with: { idx: { images: 'digits-idx3-ubyte' } } }, [{ use: 'decode', with: { preset: 'mnist', size: 28 } }]);
    expect(sized.lines.map((l) => l.pixels.width)).toEqual([28, 28, 28]);
  });

  it('fails at start, naming the option, when mean/std do not fit the channels', async () => {
    const dir = await tempDir('decode-config-');
    await writeFileIn(join(dir, 'images', 'a.png'), await solidImage('png', 4, 4, { r: 0, g: 0, b: 0 }));
    await expect(runStages(dir, { use: 'files', with: { folder: 'images' } }, [{ use: 'decode', with: { preset: 'mnist', mean: [0.5, 0.5, 0.5] } }])).rejects.toThrow(
      'plugin "decode" (decode) failed to start: mean: "mean" needs 1 value (one output channel), found 3',
    );
  });

  it('refuses unknown presets with a suggestion', async () => {
    const dir = await tempDir('decode-preset-');
    await expect(runStages(dir, { use: 'files', with: { folder: '.' } }, [{ use: 'decode', with: { preset: 'mobilenet-v3' } }])).rejects.toThrow(
      /TS_ERR_CONFIG_ENUM at \$\.stages\[0\]\.with\.preset: expected one of "mobilenet-v2", "inception-v3", "mnist", "imagenet", "clip", "dinov2", found "mobilenet-v3" \(did you mean "mobilenet-v2"\?\)/,
    );
  });
});
