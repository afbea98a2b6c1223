import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, type DecodeOptions } from '../../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec, type DecodeOverrides } from '../../../src/stages/decode/decode-spec.ts';
import { fastDecode } from '../../../src/stages/decode/fast-decode.ts';
import { seededRandom } from '../../fuzz/hostile-inputs.ts';
import { expectLeftToSharp, expectPngFixedSetAsSharp, limits, maxDifference, noise, png, SHARP } from './decode-fixtures.ts';

describe('decode fast path: small simple PNGs without libvips', () => {
  it("gives sharp's pixels, within one grey level, on a fixed set of sizes, colour types, fits and kernels", async () => {
    await expectPngFixedSetAsSharp();
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
      ['a large PNG', await sharp(noise(random, 300 * 300), { raw: { width: 300, height: 300, channels: 1 } }).toColourspace('b-w').png().toBuffer(), { preset: 'mnist' }],
    ];
    await expectLeftToSharp(cases);
  });

  it('dead-letters damaged PNGs with the code sharp gives them', async () => {
    const random = seededRandom(18);
    const originals = [await png(random, 45, 45, 'grey'), await png(random, 32, 32, 'rgb'), await png(random, 48, 48, 'palette')];
    expect(await damagedOutcomesAsSharp(originals, { preset: 'mnist', channels: 3 }, random)).toBeGreaterThan(100);
  });
});

async function jpeg(random: () => number, width: number, height: number, kind: 'grey' | 'rgb', options: sharp.JpegOptions = {}, content: 'noise' | 'smooth' = 'noise'): Promise<Buffer> {
  const channels = kind === 'grey' ? 1 : 3;
  const pixels = content === 'noise' ? noise(random, width * height * channels) : smooth(width, height, channels, random());
  const image = sharp(pixels, { raw: { width, height, channels } });
  return (kind === 'grey' ? image.toColourspace('b-w') : image).jpeg(options).toBuffer();
}

/** A photo-like image: slow waves, most of a JPEG's coefficients zero. */
function smooth(width: number, height: number, channels: number, phase: number): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = Math.round(128 + 100 * Math.sin(x / 9 + c + phase * 6) * Math.cos(y / 13 - c));
    }
  }
  return out;
}

describe('decode fast path: JPEGs with libjpeg-turbo', () => {
  it("gives sharp's pixels on a fixed set: sizes, grey and colour, chroma subsampling, progressive, fits, and sharp's shrink-on-load scales", async () => {
    const random = seededRandom(19);
    const sizes: ReadonlyArray<readonly [number, number]> = [[45, 45], [64, 48], [256, 256], [253, 199], [17, 300], [500, 375]];
    const encodings: ReadonlyArray<sharp.JpegOptions> = [{ quality: 90 }, { quality: 75, chromaSubsampling: '4:4:4' }, { quality: 80, progressive: true }];
    const targets: readonly DecodeOverrides[] = [
      { preset: 'mobilenet-v2' }, // 224 cover: the embed path's own
      { preset: 'mobilenet-v2', size: 28 }, // shrink-on-load by 2, 4 or 8 for the larger sizes
      { preset: 'mobilenet-v2', fit: 'fill', width: 40, height: 24, kernel: 'cubic' },
      { preset: 'mobilenet-v2', fit: 'contain', size: 32, kernel: 'linear' },
      { preset: 'mnist' }, // grey only
    ];
    let compared = 0;
    let exact = 0;
    for (const [width, height] of sizes) {
      for (const kind of ['grey', 'rgb'] as const) {
        for (const [e, encoding] of encodings.entries()) {
          const bytes = await jpeg(random, width, height, kind, encoding, e === 1 ? 'smooth' : 'noise');
          for (const target of targets) {
            const spec = resolveDecodeSpec(target);
            if (kind === 'rgb' && spec.channels === 1) continue; // colour to grey: sharp's (next spec)
            if (width < spec.width || height < spec.height) continue; // an enlargement: sharp's
            if (spec.fit === 'contain' && width !== height) continue; // a letterbox: sharp's
            const worst = await maxDifference(bytes, target);
            expect(worst, `${width}x${height} ${kind} ${JSON.stringify(encoding)} -> ${JSON.stringify(target)}`).toBeLessThanOrEqual(1);
            compared++;
            if (worst === 0) exact++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(80);
    // The same libjpeg-turbo decoder and libvips' own reduce: not one grey level apart.
    expect(exact).toBe(compared);
  });

  it('leaves to sharp what it does not reproduce, and the stage still decodes it', async () => {
    const random = seededRandom(20);
    const rgb = () => sharp(noise(random, 40 * 40 * 3), { raw: { width: 40, height: 40, channels: 3 } });
    const small = { preset: 'mobilenet-v2', size: 28 } as const;
    const cases: Array<[string, Buffer, DecodeOverrides]> = [
      ['an EXIF orientation to apply', await rgb().jpeg().withMetadata({ orientation: 6 }).toBuffer(), small],
      ['an ICC profile', await rgb().jpeg().withIccProfile('p3').toBuffer(), small],
      ['CMYK', await rgb().toColourspace('cmyk').jpeg().toBuffer(), small],
      ['colour to grey', await rgb().jpeg().toBuffer(), { preset: 'mnist' }],
      ['an enlargement', await rgb().jpeg().toBuffer(), { preset: 'mobilenet-v2', size: 64 }],
      ['the exporters\u2019 resize-then-crop', await rgb().jpeg().toBuffer(), { ...small, crop: 0.875 }],
      ['a large JPEG', await sharp(noise(random, 600 * 600 * 3), { raw: { width: 600, height: 600, channels: 3 } }).jpeg().toBuffer(), small],
    ];
    await expectLeftToSharp(cases);
  });

  it('takes JPEGs only where the stage accepts them, and refuses them there with the format named', async () => {
    const bytes = await jpeg(seededRandom(21), 40, 40, 'rgb');
    const spec = resolveDecodeSpec({ preset: 'mobilenet-v2', size: 28 });
    expect(fastDecode(bytes, spec, limits.maxPixels, ['png'])).toBeUndefined();
    await expect(decodeImage(bytes, spec, { ...limits, formats: ['png'] }, 'k')).rejects.toMatchObject({ code: 'TS_ERR_DECODE_UNSUPPORTED_FORMAT', message: expect.stringMatching(/jpeg images are not accepted/) });
    // A declared size over maxPixels is refused unread, as sharp's path refuses it.
    await expect(decodeImage(bytes, spec, { ...limits, maxPixels: 1000 }, 'k')).rejects.toMatchObject({ code: 'TS_ERR_DECODE_TOO_LARGE' });
  });

  it('dead-letters damaged JPEGs with the code sharp gives them', async () => {
    const random = seededRandom(22);
    const originals = [await jpeg(random, 45, 45, 'grey'), await jpeg(random, 64, 48, 'rgb'), await jpeg(random, 48, 48, 'rgb', { progressive: true }, 'smooth')];
    expect(await damagedOutcomesAsSharp(originals, { preset: 'mobilenet-v2', size: 28 }, random)).toBeGreaterThan(60);
  });
});

/**
 * 240 damaged copies of `originals` (a bit flipped, cut short, bytes appended, a byte dropped):
 * each decodes, or is refused with a code, exactly as with sharp alone. Returns how many sharp refuses.
 */
async function damagedOutcomesAsSharp(originals: readonly Buffer[], target: DecodeOverrides, random: () => number): Promise<number> {
  const spec = resolveDecodeSpec(target);
  const outcome = async (bytes: Buffer, options: DecodeOptions) =>
    decodeImage(bytes, spec, limits, 'damaged', options).then(
      (raw) => `decoded ${Buffer.from(raw.data).toString('base64')}`,
      (error: { code?: string }) => `dead letter ${error.code}`,
    );
  let refused = 0;
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
    if (expected.startsWith('dead letter')) refused++;
    expect(await outcome(mutated, {}), `mutation ${mutation} at byte ${at}`).toBe(expected);
  }
  return refused;
}
