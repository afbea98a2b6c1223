import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, reshapeRaw, type DecodeLimits } from '../../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec, type DecodeOverrides } from '../../../src/stages/decode/decode-spec.ts';
import { normalisePixels } from '../../../src/stages/decode/normalise-pixels.ts';
import { solidImage } from '../image-fixtures.ts';

const limits: DecodeLimits = { maxPixels: 50_000_000, formats: ['jpeg', 'png', 'webp'], failOn: 'warning' };

async function pixelsOf(bytes: Buffer, overrides: DecodeOverrides, decodeLimits = limits) {
  const spec = resolveDecodeSpec(overrides);
  return normalisePixels(await decodeImage(bytes, spec, decodeLimits, 'test-image'), spec);
}

/** width x height RGB image whose left half is red and right half blue. */
function halves(width: number, height: number): sharp.Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

const rgbAt = (p: { data: Float32Array; width: number }, x: number, y: number) => Array.from(p.data.subarray((y * p.width + x) * 3, (y * p.width + x) * 3 + 3));

describe('decode: normalisation per preset', () => {
  it('mobilenet-v2 gives 224x224 RGB in [0, 1], HWC, whatever the input size', async () => {
    const p = await pixelsOf(await solidImage('png', 300, 200, { r: 255, g: 0, b: 128 }), { preset: 'mobilenet-v2' });
    expect([p.width, p.height, p.channels, p.layout, p.data.length]).toEqual([224, 224, 3, 'hwc', 224 * 224 * 3]);
    expect(rgbAt(p, 0, 0)).toEqual([1, 0, expect.closeTo(128 / 255, 6)]);
    expect(rgbAt(p, 223, 223)).toEqual([1, 0, expect.closeTo(128 / 255, 6)]);
  });

  it('inception-v3 gives 299x299', async () => {
    const p = await pixelsOf(await solidImage('jpeg', 64, 64, { r: 0, g: 0, b: 0 }), { preset: 'inception-v3' });
    expect([p.width, p.height, p.channels]).toEqual([299, 299, 3]);
  });

  it('range -1..1 and explicit mean/std rescale the same bytes', async () => {
    const png = await solidImage('png', 8, 8, { r: 255, g: 0, b: 51 });
    expect(rgbAt(await pixelsOf(png, { preset: 'mobilenet-v2', size: 4, range: '-1..1' }), 1, 1)).toEqual([1, -1, expect.closeTo(51 / 127.5 - 1, 6)]);
    expect(rgbAt(await pixelsOf(png, { preset: 'mobilenet-v2', size: 4, range: '0..255' }), 1, 1)).toEqual([expect.closeTo(255, 4), 0, expect.closeTo(51, 4)]);
    const imagenet = await pixelsOf(png, { preset: 'mobilenet-v2', size: 4, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(rgbAt(imagenet, 0, 0)).toEqual([expect.closeTo((1 - 0.485) / 0.229, 5), expect.closeTo(-0.456 / 0.224, 5), expect.closeTo((0.2 - 0.406) / 0.225, 5)]);
  });

  it('writes channel planes one after another with layout chw', async () => {
    const p = await pixelsOf(await solidImage('png', 8, 8, { r: 255, g: 0, b: 102 }), { preset: 'mobilenet-v2', size: 3, layout: 'chw' });
    expect(p.layout).toBe('chw');
    expect(Array.from(p.data.subarray(0, 9))).toEqual(Array(9).fill(1));
    expect(Array.from(p.data.subarray(9, 18))).toEqual(Array(9).fill(0));
    expect(Array.from(p.data.subarray(18, 27))).toEqual(Array(9).fill(expect.closeTo(0.4, 6)));
  });

  it('converts colour to one grayscale channel for the mnist preset', async () => {
    const p = await pixelsOf(await solidImage('png', 56, 56, { r: 255, g: 255, b: 255 }), { preset: 'mnist' });
    expect([p.width, p.height, p.channels, p.data.length]).toEqual([28, 28, 1, 784]);
    expect(p.data.every((v) => v === 1)).toBe(true);
  });

  it('turns grayscale input into three equal RGB channels', async () => {
    const gray = await sharp(Buffer.alloc(16, 51), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer();
    const p = await pixelsOf(gray, { preset: 'mobilenet-v2', size: 4 });
    expect(rgbAt(p, 2, 2)).toEqual([expect.closeTo(0.2, 6), expect.closeTo(0.2, 6), expect.closeTo(0.2, 6)]);
  });

  it('flattens transparency onto black', async () => {
    const clear = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } }).png().toBuffer();
    const p = await pixelsOf(clear, { preset: 'mobilenet-v2', size: 4 });
    expect(Array.from(p.data).every((v) => v === 0)).toBe(true);
  });
});

describe('decode: resizing', () => {
  it('cover scales to fill and crops the centre; contain letterboxes on black; fill stretches', async () => {
    const wide = await halves(40, 20).png().toBuffer();
    const cover = await pixelsOf(wide, { preset: 'mobilenet-v2', size: 10, fit: 'cover' });
    expect(rgbAt(cover, 0, 5)).toEqual([1, 0, 0]);
    expect(rgbAt(cover, 9, 5)).toEqual([0, 0, 1]);

    const contain = await pixelsOf(wide, { preset: 'mobilenet-v2', size: 10, fit: 'contain' });
    expect(rgbAt(contain, 0, 0)).toEqual([0, 0, 0]);
    expect(rgbAt(contain, 0, 9)).toEqual([0, 0, 0]);
    expect(rgbAt(contain, 0, 5)).toEqual([1, 0, 0]);

    const fill = await pixelsOf(wide, { preset: 'mobilenet-v2', width: 10, height: 10, fit: 'fill' });
    expect(rgbAt(fill, 0, 0)).toEqual([1, 0, 0]);
    expect(rgbAt(fill, 9, 9)).toEqual([0, 0, 1]);
  });

  it('applies the EXIF orientation of a phone photo before resizing', async () => {
    // Stored 20x10 with red left; orientation 6 means "rotate 90 degrees clockwise to view": red ends on top.
    const rotated = await halves(20, 10).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const p = await pixelsOf(rotated, { preset: 'mobilenet-v2', width: 10, height: 20, fit: 'fill' });
    expect(rgbAt(p, 5, 1).map((v) => Math.round(v))).toEqual([1, 0, 0]);
    expect(rgbAt(p, 5, 18).map((v) => Math.round(v))).toEqual([0, 0, 1]);
  });

  it('passes raw IDX pixels of the right size through untouched, and resizes others', async () => {
    const raw = { width: 28, height: 28, channels: 1, data: Uint8Array.from({ length: 784 }, (_, i) => i % 256) };
    const spec = resolveDecodeSpec({ preset: 'mnist' });
    const same = await reshapeRaw(raw, spec, limits.maxPixels, 'row');
    expect(same).toBe(raw);
    const p = normalisePixels(same, spec);
    expect(Array.from(p.data.subarray(0, 3))).toEqual([0, 1 / 255, 2 / 255].map((v) => Math.fround(v)));

    const larger = await reshapeRaw(raw, resolveDecodeSpec({ preset: 'mobilenet-v2', size: 56 }), limits.maxPixels, 'row');
    expect([larger.width, larger.height, larger.channels]).toEqual([56, 56, 3]);
  });
});

describe('decode: refusals', () => {
  it('refuses formats outside the allow-list by their content, and accepts them when listed', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ff0000' } }).gif().toBuffer();
    await expect(pixelsOf(gif, { preset: 'mobilenet-v2', size: 4 })).rejects.toMatchObject({
      code: 'TS_ERR_DECODE_UNSUPPORTED_FORMAT',
      reason: 'test-image: gif images are not accepted (formats: jpeg, png, webp)',
    });
    const p = await pixelsOf(gif, { preset: 'mobilenet-v2', size: 4 }, { ...limits, formats: ['gif'] });
    expect(rgbAt(p, 0, 0)).toEqual([1, 0, 0]);
  });

  it('refuses an image over maxPixels from its header', async () => {
    const png = await solidImage('png', 100, 60, { r: 1, g: 2, b: 3 });
    await expect(pixelsOf(png, { preset: 'mobilenet-v2', size: 4 }, { ...limits, maxPixels: 5999 })).rejects.toMatchObject({ code: 'TS_ERR_DECODE_TOO_LARGE' });
    await expect(pixelsOf(png, { preset: 'mobilenet-v2', size: 4 }, { ...limits, maxPixels: 6000 })).resolves.toBeDefined();
  });

  it('rejects mean/std lists that do not match the channel count', () => {
    expect(() => resolveDecodeSpec({ preset: 'mnist', mean: [0.1, 0.2, 0.3] })).toThrow('"mean" needs 1 value (one output channel), found 3');
    expect(() => resolveDecodeSpec({ preset: 'mobilenet-v2', std: [0.5, 0.5] })).toThrow('"std" needs 1 or 3 values (one per output channel), found 2');
  });
});

describe('decode: why a damaged image failed', () => {
  const spec = { preset: 'mobilenet-v2', size: 8 } as const;

  it('calls a PNG or WebP cut short truncated, naming what is missing', async () => {
    const png = await solidImage('png', 64, 64, { r: 9, g: 99, b: 199 });
    await expect(pixelsOf(png.subarray(0, png.length - 20), spec)).rejects.toMatchObject({
      code: 'TS_ERR_DECODE_TRUNCATED',
      reason: expect.stringMatching(new RegExp(`^test-image: the image data ends early: ${png.length - 20} bytes, without the PNG IEND chunk`)),
    });
    const webp = await sharp(Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 31) % 256)), { raw: { width: 64, height: 64, channels: 3 } }).webp().toBuffer();
    await expect(pixelsOf(webp.subarray(0, webp.length - 40), spec)).rejects.toMatchObject({
      code: 'TS_ERR_DECODE_TRUNCATED',
      reason: expect.stringContaining(`without 40 of the ${webp.length} bytes the WebP header declares`),
    });
  });

  it('calls a complete PNG with damaged data corrupt', async () => {
    const png = Buffer.from(await solidImage('png', 64, 64, { r: 9, g: 99, b: 199 }));
    const idat = png.indexOf('IDAT');
    png[idat + 6] ^= 0xff; // inside the compressed data: the chunk's CRC no longer matches
    await expect(pixelsOf(png, spec)).rejects.toMatchObject({ code: 'TS_ERR_DECODE_CORRUPT', reason: expect.stringMatching(/^test-image: the image could not be decoded/) });
  });
});
