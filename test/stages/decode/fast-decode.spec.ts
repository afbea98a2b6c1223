import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, type DecodeLimits, type DecodeOptions } from '../../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec, type DecodeOverrides } from '../../../src/stages/decode/decode-spec.ts';
import { fastDecode } from '../../../src/stages/decode/fast-decode.ts';
import { seededRandom } from '../../fuzz/hostile-inputs.ts';

const limits: DecodeLimits = { maxPixels: 50_000_000, formats: ['jpeg', 'png', 'webp'], failOn: 'warning' };
const SHARP: DecodeOptions = { decoder: 'sharp' };

/** Seeded noise: the hardest content for a resize to agree on, and the same set on every run. */
function noise(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

async function png(random: () => number, width: number, height: number, kind: 'grey' | 'rgb' | 'palette'): Promise<Buffer> {
  const channels = kind === 'grey' ? 1 : 3;
  const image = sharp(noise(random, width * height * channels), { raw: { width, height, channels } });
  if (kind === 'grey') return image.toColourspace('b-w').png().toBuffer();
  return kind === 'palette' ? image.png({ palette: true, colours: 40 }).toBuffer() : image.png().toBuffer();
}

const SIZES: ReadonlyArray<readonly [number, number]> = [[45, 45], [28, 28], [32, 32], [40, 60], [61, 40], [100, 100], [64, 48], [29, 29], [111, 57], [200, 200], [253, 253], [140, 28]];
const TARGETS: readonly DecodeOverrides[] = [
  { preset: 'mnist' },
  { preset: 'mnist', size: 16, kernel: 'cubic' },
  { preset: 'mnist', fit: 'fill', width: 20, height: 14, kernel: 'linear' },
  { preset: 'mnist', kernel: 'mitchell' },
  { preset: 'mobilenet-v2', size: 28 },
  { preset: 'mobilenet-v2', size: 24, kernel: 'lanczos2' },
];

async function maxDifference(bytes: Buffer, overrides: DecodeOverrides): Promise<number> {
  const spec = resolveDecodeSpec(overrides);
  const fast = fastDecode(bytes, spec, limits.maxPixels);
  const viaSharp = await decodeImage(bytes, spec, limits, 'fixed-set', SHARP);
  expect(fast, 'taken by the fast path').toBeDefined();
  expect([fast!.width, fast!.height, fast!.channels]).toEqual([viaSharp.width, viaSharp.height, viaSharp.channels]);
  let worst = 0;
  for (let i = 0; i < viaSharp.data.length; i++) worst = Math.max(worst, Math.abs(fast!.data[i] - viaSharp.data[i]));
  return worst;
}

describe('decode fast path: small simple PNGs without libvips', () => {
  it("gives sharp's pixels, within one grey level, on a fixed set of sizes, colour types, fits and kernels", async () => {
    const random = seededRandom(16);
    let compared = 0;
    for (const [width, height] of SIZES) {
      for (const kind of ['grey', 'rgb', 'palette'] as const) {
        const bytes = await png(random, width, height, kind);
        for (const target of TARGETS) {
          // Colour to grey goes through linear light in libvips: left to sharp (next spec).
          if (kind !== 'grey' && target.preset === 'mnist') continue;
          // An enlargement is libvips' affine, not its reduce: left to sharp too.
          const spec = resolveDecodeSpec(target);
          if (width < spec.width || height < spec.height) continue;
          expect(await maxDifference(bytes, target), `${width}x${height} ${kind} -> ${JSON.stringify(target)}`).toBeLessThanOrEqual(1);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('leaves to sharp what it does not reproduce, and the stage still decodes it', async () => {
    const random = seededRandom(17);
    const rgb = sharp(noise(random, 40 * 40 * 3), { raw: { width: 40, height: 40, channels: 3 } });
    const rgba = sharp(noise(random, 40 * 40 * 4), { raw: { width: 40, height: 40, channels: 4 } });
    const cases: Array<[string, Buffer, DecodeOverrides]> = [
      ['colour to grey', await rgb.clone().png().toBuffer(), { preset: 'mnist' }],
      ['interlaced', await rgb.clone().png({ progressive: true }).toBuffer(), { preset: 'mobilenet-v2', size: 28 }],
      ['16-bit', await rgb.clone().toColourspace('rgb16').png().toBuffer(), { preset: 'mobilenet-v2', size: 28 }],
      ['alpha', await rgba.clone().png().toBuffer(), { preset: 'mobilenet-v2', size: 28 }],
      ['an enlargement', await rgb.clone().png().toBuffer(), { preset: 'mobilenet-v2', size: 64 }],
      ['a letterbox', await sharp(noise(random, 40 * 20 * 3), { raw: { width: 40, height: 20, channels: 3 } }).png().toBuffer(), { preset: 'mobilenet-v2', size: 28, fit: 'contain' }],
      ['the exporters\u2019 resize-then-crop', await rgb.clone().png().toBuffer(), { preset: 'mobilenet-v2', size: 28, crop: 0.875 }],
      ['a JPEG', await rgb.clone().jpeg().toBuffer(), { preset: 'mobilenet-v2', size: 28 }],
      ['a large PNG', await sharp(noise(random, 300 * 300), { raw: { width: 300, height: 300, channels: 1 } }).toColourspace('b-w').png().toBuffer(), { preset: 'mnist' }],
    ];
    for (const [what, bytes, target] of cases) {
      const spec = resolveDecodeSpec(target);
      expect(fastDecode(bytes, spec, limits.maxPixels), what).toBeUndefined();
      const decoded = await decodeImage(bytes, spec, limits, what);
      expect(decoded.data, what).toEqual((await decodeImage(bytes, spec, limits, what, SHARP)).data);
    }
  });

  it('dead-letters damaged PNGs with the code sharp gives them', async () => {
    const random = seededRandom(18);
    const originals = [await png(random, 45, 45, 'grey'), await png(random, 32, 32, 'rgb'), await png(random, 48, 48, 'palette')];
    const spec = resolveDecodeSpec({ preset: 'mnist', channels: 3 });
    const outcome = async (bytes: Buffer, options: DecodeOptions) =>
      decodeImage(bytes, spec, limits, 'damaged', options).then(
        (raw) => `decoded ${Buffer.from(raw.data).toString('base64')}`,
        (error: { code?: string }) => `dead letter ${error.code}`,
      );
    let damaged = 0;
    for (let i = 0; i < 240; i++) {
      const bytes = Buffer.from(originals[i % originals.length]);
      const at = Math.floor(random() * bytes.length);
      const mutation = i % 4;
      const mutated =
        mutation === 0 ? (bytes[at] ^= 1 << Math.floor(random() * 8), bytes)
        : mutation === 1 ? bytes.subarray(0, at)
        : mutation === 2 ? Buffer.concat([bytes, Buffer.from([0, 1, 2, 3])])
        : Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      const expected = await outcome(mutated, SHARP);
      if (expected.startsWith('dead letter')) damaged++;
      expect(await outcome(mutated, {}), `mutation ${mutation} at byte ${at}`).toBe(expected);
    }
    expect(damaged).toBeGreaterThan(100);
  });
});
