/** What the decode fast path's specs share: seeded images, and the comparison with sharp. */
import sharp from 'sharp';
import { expect } from 'vitest';
import { decodeImage, type DecodeLimits, type DecodeOptions } from '../../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec, type DecodeOverrides } from '../../../src/stages/decode/decode-spec.ts';
import { DecodeScratch, fastDecode } from '../../../src/stages/decode/fast-decode.ts';
import { seededRandom } from '../../fuzz/hostile-inputs.ts';

export const limits: DecodeLimits = { maxPixels: 50_000_000, formats: ['jpeg', 'png', 'webp'], failOn: 'warning' };
export const SHARP: DecodeOptions = { decoder: 'sharp' };

/** Seeded noise: the hardest content for a resize to agree on, and the same set on every run. */
export function noise(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

export async function png(random: () => number, width: number, height: number, kind: 'grey' | 'rgb' | 'palette'): Promise<Buffer> {
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

/** One scratch for a whole fixed set, as a decode thread keeps one for every image it decodes. */
const sharedScratch = new DecodeScratch();

/** The largest difference between the fast path's pixels and sharp's, after checking the fast path took the image (and gave the same through a reused scratch). */
export async function maxDifference(bytes: Buffer, overrides: DecodeOverrides): Promise<number> {
  const spec = resolveDecodeSpec(overrides);
  const fast = fastDecode(bytes, spec, limits.maxPixels);
  const viaSharp = await decodeImage(bytes, spec, limits, 'fixed-set', SHARP);
  expect(fast, 'taken by the fast path').toBeDefined();
  // Through buffers the images before it left behind (other sizes, other steps): the same bytes.
  const reused = fastDecode(bytes, spec, limits.maxPixels, undefined, sharedScratch);
  expect(reused && Buffer.from(reused.data.buffer, reused.data.byteOffset, reused.data.length).equals(Buffer.from(fast!.data)), 'the same through a reused scratch').toBe(true);
  expect([fast!.width, fast!.height, fast!.channels]).toEqual([viaSharp.width, viaSharp.height, viaSharp.channels]);
  let worst = 0;
  for (let i = 0; i < viaSharp.data.length; i++) worst = Math.max(worst, Math.abs(fast!.data[i] - viaSharp.data[i]));
  return worst;
}

/** The PNG fixed set: 12 sizes, grey/RGB/palette, 6 targets (less colour to grey and enlargements), each within one grey level of sharp. */
export async function expectPngFixedSetAsSharp(): Promise<void> {
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
}

/** Each case is one the fast path leaves to sharp, and the stage still decodes it, to sharp's pixels. */
export async function expectLeftToSharp(cases: ReadonlyArray<[string, Buffer, DecodeOverrides]>): Promise<void> {
  for (const [what, bytes, target] of cases) {
    const spec = resolveDecodeSpec(target);
    expect(fastDecode(bytes, spec, limits.maxPixels), what).toBeUndefined();
    const decoded = await decodeImage(bytes, spec, limits, what);
    expect(decoded.data, what).toEqual((await decodeImage(bytes, spec, limits, what, SHARP)).data);
  }
}
