import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 as zlibCrc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { staleAddon } from '../../../src/native/native-addon.ts';
import { resolveDecodeSpec } from '../../../src/stages/decode/decode-spec.ts';
import { NATIVE_DECODE_ADDON, nativeDecode, nativeDecodeStatus } from '../../../src/stages/decode/native-decode.ts';
import { normalisePixels } from '../../../src/stages/decode/normalise-pixels.ts';
import { reduceColumns, reduceImage, reducePlan, reduceRows, type VipsKernel } from '../../../src/stages/decode/vips-reduce.ts';
import { seededRandom } from '../../fuzz/hostile-inputs.ts';
import { tempDir } from '../../support/pipeline-harness.ts';
import { noise } from './decode-fixtures.ts';
import { outcomes, pngVariants } from './png-variants.ts';

// `npm run setup` builds the addon; the decode stage works without it (portable-decode.spec.ts).
const addon = () => {
  const loaded = nativeDecode();
  expect(loaded, nativeDecodeStatus()).toBeDefined();
  return loaded!;
};

describe('the decode stage native fast path (build/native/decode_kernels.node)', () => {
  it('is built by setup and in use', () => {
    addon();
    expect(nativeDecodeStatus()).toMatch(/^native/);
  });

  it("turns bytes into model input with the JavaScript path's float32 values, bit for bit, in either layout", () => {
    const random = seededRandom(30);
    for (const preset of ['mobilenet-v2', 'inception-v3', 'mnist'] as const) {
      for (const layout of ['hwc', 'chw'] as const) {
        const spec = { ...resolveDecodeSpec({ preset }), layout };
        const { channels, width, height } = spec;
        const raw = { width, height, channels, data: new Uint8Array(noise(random, width * height * channels)) };
        const pixels = normalisePixels(raw, spec);
        const pixelCount = width * height;
        for (let c = 0; c < channels; c++) {
          const gain = 1 / (255 * spec.std[c]);
          const shift = -spec.mean[c] / spec.std[c];
          for (let p = 0; p < pixelCount; p += 97) {
            const at = layout === 'chw' && channels > 1 ? c * pixelCount + p : p * channels + c;
            expect(pixels.data[at], `${preset} ${layout} pixel ${p} channel ${c}`).toBe(Math.fround(raw.data[p * channels + c] * gain + shift));
          }
        }
        expect(pixels.layout).toBe(layout);
      }
    }
  });

  it('reads what sharp acts on from a JPEG header: size, colour, EXIF orientation, ICC profile', async () => {
    const image = sharp(noise(seededRandom(31), 30 * 20 * 3), { raw: { width: 30, height: 20, channels: 3 } });
    expect(addon().jpegHeader(await image.clone().jpeg().toBuffer())).toEqual({ width: 30, height: 20, components: 3, colour: 'ycbcr', orientation: 1, icc: false });
    expect(addon().jpegHeader(await image.clone().jpeg().withMetadata({ orientation: 8 }).toBuffer())).toMatchObject({ orientation: 8 });
    expect(addon().jpegHeader(await image.clone().jpeg().withIccProfile('p3').toBuffer())).toMatchObject({ icc: true });
    expect(addon().jpegHeader(await image.clone().toColourspace('b-w').jpeg().toBuffer())).toMatchObject({ components: 1, colour: 'grey' });
    expect(addon().jpegHeader(await image.clone().toColourspace('cmyk').jpeg().toBuffer())).toMatchObject({ components: 4, colour: 'cmyk' });
    expect(addon().jpegHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 2]))).toBeNull();
  });

  it('gives up (null) rather than guess: damaged data, CMYK, more pixels than allowed', async () => {
    const image = sharp(noise(seededRandom(32), 64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } });
    const good = await image.clone().jpeg().toBuffer();
    expect(addon().decodeJpeg(good, 1, 64 * 64)).toMatchObject({ width: 64, height: 64, channels: 3 });
    expect(addon().decodeJpeg(good, 1, 64 * 64 - 1)).toBeNull();
    expect(addon().decodeJpeg(good.subarray(0, good.length - 200), 1, 1e6)).toBeNull(); // truncated: a libjpeg warning
    expect(addon().decodeJpeg(await image.clone().toColourspace('cmyk').jpeg().toBuffer(), 1, 1e6)).toBeNull();
    // Shrink-on-load keeps libvips' sizes, rounded down.
    expect(addon().decodeJpeg(await sharp(noise(seededRandom(33), 61 * 30 * 3), { raw: { width: 61, height: 30, channels: 3 } }).jpeg().toBuffer(), 4, 1e6)).toMatchObject({ width: 15, height: 7 });
  });

  it("writes into a caller's buffer when it holds the result (a view of it comes back), and into a new one when it does not", async () => {
    const random = seededRandom(34);
    const good = await sharp(noise(random, 64 * 48 * 3), { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    const fresh = addon().decodeJpeg(good, 1, 1e6)!;
    const roomy = new Uint8Array(64 * 48 * 3 + 100).fill(7);
    const intoRoomy = addon().decodeJpeg(good, 1, 1e6, roomy)!;
    expect(intoRoomy.data.buffer).toBe(roomy.buffer);
    expect(intoRoomy.data.length).toBe(64 * 48 * 3);
    expect(Buffer.from(intoRoomy.data).equals(Buffer.from(fresh.data))).toBe(true);
    const small = new Uint8Array(10);
    const intoSmall = addon().decodeJpeg(good, 1, 1e6, small)!;
    expect(intoSmall.data.buffer).not.toBe(small.buffer);
    expect(Buffer.from(intoSmall.data).equals(Buffer.from(fresh.data))).toBe(true);

    // 64x48 -> 32x24 with a 2-tap average on each axis.
    const inputs = (to: number) => Int32Array.from({ length: 2 * to }, (_, i) => 2 * Math.floor(i / 2) + (i % 2));
    const masks = (to: number) => Int32Array.from({ length: 2 * to }, () => 2048);
    const reduce = (out?: Uint8Array) => addon().reduceImage(fresh.data, 64, 48, 3, inputs(24), masks(24), 2, inputs(32), masks(32), 2, out);
    const reduced = reduce();
    const target = new Uint8Array(32 * 24 * 3);
    expect(reduce(target).buffer).toBe(target.buffer);
    expect(Buffer.from(target).equals(Buffer.from(reduced))).toBe(true);

    const gain = Float64Array.of(1 / 255, 1 / 255, 1 / 255);
    const shift = new Float64Array(3);
    const out = new Float32Array(reduced.length);
    expect(addon().normalise(reduced, 3, gain, shift, false, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(addon().normalise(reduced, 3, gain, shift, false)));
    expect(() => addon().normalise(reduced, 3, gain, shift, false, new Float32Array(5))).toThrow(
      expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'normalise: the output must hold one value per input sample' }),
    );
  });

  // A 256 px PNG to 28 px (the mnist preset) is a box shrink by 4 and a reduce by 2.29 on each
  // axis; the box shrinks used to run in JavaScript, ~0.3 ms of a ~1.2 ms image.
  it("box-shrinks and reduces in one call with the JavaScript box shrink's integers", () => {
    const random = seededRandom(35);
    const cases: Array<[width: number, height: number, channels: number, toWidth: number, toHeight: number, kernel: VipsKernel]> = [
      [256, 256, 1, 28, 28, 'lanczos3'],
      [256, 256, 3, 28, 28, 'lanczos3'],
      [251, 97, 3, 24, 9, 'cubic'],
      [256, 40, 1, 28, 28, 'linear'], // a box shrink on the columns only
      [33, 200, 1, 30, 11, 'mitchell'], // and on the rows only
    ];
    for (const [width, height, channels, toWidth, toHeight, kernel] of cases) {
      const src = new Uint8Array(noise(random, width * height * channels));
      const vertical = reducePlan(height, height / toHeight);
      const horizontal = reducePlan(width, width / toWidth);
      expect(vertical.boxShrink > 1 || horizontal.boxShrink > 1).toBe(true);
      const inOneCall = reduceImage(src, width, height, channels, vertical, horizontal, kernel);
      const stepByStep = reduceColumns(reduceRows(src, width, channels, vertical, kernel), vertical.to, channels, horizontal, kernel);
      expect(inOneCall.length, `${width}x${height}x${channels}`).toBe(toWidth * toHeight * channels);
      expect(Buffer.from(inOneCall).equals(Buffer.from(stepByStep)), `${width}x${height}x${channels} -> ${toWidth}x${toHeight} ${kernel}`).toBe(true);
    }
  });

  // The addon sums 16 samples and two taps at a time on AVX2 (the rest of a line, weights beyond
  // 16 bits and over 64 taps one at a time), so its bytes are held here to the definition itself.
  it('reduces lines to exactly the rounded, clipped masked sums: any tap count, line tails, weights of either sign and beyond 16 bits', () => {
    const random = seededRandom(36);
    const cases: Array<[lineLength: number, lines: number, taps: number, weightRange: number]> = [
      [768, 256, 7, 6000], // 256 px RGB rows to 224: the JPEG -> mobilenet-v2 case
      [672, 256, 6, 6000],
      [16, 9, 1, 5000],
      [17, 9, 2, 5000],
      [15, 9, 3, 5000], // shorter than one vector
      [33, 40, 9, 9000],
      [3000, 12, 5, 30000], // sums far outside 0..255 both ways
      [100, 12, 4, 70000], // weights beyond 16 bits
      [200, 80, 70, 3000], // more taps than the AVX2 route takes
    ];
    for (const [lineLength, lines, taps, weightRange] of cases) {
      const src = new Uint8Array(noise(random, lineLength * lines));
      const outLines = 11;
      const below = (n: number) => Math.floor(random() * n);
      const inputs = new Int32Array(outLines * taps).map(() => below(lines));
      const masks = new Int32Array(outLines * taps).map(() => below(2 * weightRange + 1) - weightRange);
      const expected = new Uint8Array(outLines * lineLength);
      for (let o = 0; o < outLines; o++) {
        for (let x = 0; x < lineLength; x++) {
          let sum = 2048;
          for (let i = 0; i < taps; i++) sum += masks[o * taps + i] * src[inputs[o * taps + i] * lineLength + x];
          expected[o * lineLength + x] = Math.max(0, Math.min(255, sum >> 12));
        }
      }
      const reduced = addon().reduceLines(src, lineLength, inputs, masks, taps);
      expect(Buffer.from(reduced).equals(Buffer.from(expected)), `${lineLength} samples, ${taps} taps, weights within ${weightRange}`).toBe(true);
    }
  });

  // RGB pixels move as 4-byte words whose spare byte lands on the next pixel, so sizes at and
  // around the 32-pixel tiles, and single rows and columns, are where a slip would show.
  it('transposes images of any size and channel count to the definition', () => {
    const random = seededRandom(37);
    const sizes: Array<[width: number, height: number]> = [[1, 1], [1, 9], [9, 1], [31, 32], [32, 33], [33, 31], [65, 47], [256, 224]];
    for (const channels of [1, 2, 3, 4]) {
      for (const [width, height] of sizes) {
        const src = new Uint8Array(noise(random, width * height * channels));
        const expected = new Uint8Array(src.length);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            for (let c = 0; c < channels; c++) expected[(x * height + y) * channels + c] = src[(y * width + x) * channels + c];
          }
        }
        expect(Buffer.from(addon().transpose(src, width, height, channels)).equals(Buffer.from(expected)), `${width}x${height}x${channels}`).toBe(true);
      }
    }
  });

  it("inflates a PNG's data and undoes every row filter (the PNG specification's, applied here) to the original bytes", () => {
    const random = seededRandom(33);
    for (const [width, bpp] of [[37, 1], [20, 3], [1, 3], [2, 1]] as const) {
      const height = 11;
      const stride = width * bpp;
      const raw = new Uint8Array(noise(random, stride * height));
      // Rows cycle through filter types 0-4, so each meets both a first row and rows above it.
      const filtered = pngFiltered(raw, stride, height, bpp, (y) => y % 5);
      const stream = deflateSync(filtered);
      const whole = Int32Array.of(0, stream.length);
      expect(addon().inflatePng(stream, whole, height, stride, bpp), `${width} px, ${bpp} bytes a pixel`).toEqual(raw);
      const out = new Uint8Array(stride * height + 5);
      const written = addon().inflatePng(stream, whole, height, stride, bpp, out)!;
      expect(written.buffer).toBe(out.buffer);
      expect(written).toEqual(raw);
    }
  });

  it('joins a stream split over several chunks, in the order given, wherever they lie', () => {
    const raw = new Uint8Array(noise(seededRandom(36), 30 * 9));
    const stream = deflateSync(pngFiltered(raw, 30, 9, 1, (y) => (y * 3) % 5));
    // The stream in three pieces with other bytes around them, as IDAT chunks lie in a PNG.
    const cut = [0, 7, 40, stream.length];
    const png = new Uint8Array(stream.length + 40).fill(0xee);
    const parts: number[] = [];
    for (let i = 0, at = 5; i < 3; at += cut[i + 1] - cut[i] + 12, i++) {
      png.set(stream.subarray(cut[i], cut[i + 1]), at);
      parts.push(at, cut[i + 1] - cut[i]);
    }
    expect(addon().inflatePng(png, Int32Array.from(parts), 9, 30, 1)).toEqual(raw);
    expect(addon().inflatePng(png, Int32Array.from([parts[2], parts[3], parts[0], parts[1], parts[4], parts[5]]), 9, 30, 1)).toBeNull();
  });

  it('gives up (null) on PNG data the JavaScript path refuses: too short, too long, a bad checksum, an undefined filter', () => {
    const raw = new Uint8Array(noise(seededRandom(34), 16 * 4));
    const filtered = pngFiltered(raw, 16, 4, 1, (y) => y);
    const stream = deflateSync(filtered);
    const whole = Int32Array.of(0, stream.length);
    expect(addon().inflatePng(stream, whole, 4, 16, 1)).toEqual(raw);
    expect(addon().inflatePng(stream, Int32Array.of(0, stream.length - 1), 4, 16, 1)).toBeNull();
    expect(addon().inflatePng(stream, whole, 3, 16, 1)).toBeNull();
    expect(addon().inflatePng(stream, whole, 5, 16, 1)).toBeNull();
    const badAdler = Uint8Array.from(stream);
    badAdler[badAdler.length - 1] ^= 1;
    expect(addon().inflatePng(badAdler, whole, 4, 16, 1)).toBeNull();
    const badFilter = Uint8Array.from(filtered);
    badFilter[2 * 17] = 5;
    const badFilterStream = deflateSync(badFilter);
    expect(addon().inflatePng(badFilterStream, Int32Array.of(0, badFilterStream.length), 4, 16, 1)).toBeNull();
    expect(addon().inflatePng(new Uint8Array([1, 2, 3]), Int32Array.of(0, 3), 4, 16, 1)).toBeNull();
    // Empty input (N-API gives an empty typed array no storage): an answer, not undefined.
    expect(addon().inflatePng(new Uint8Array(0), Int32Array.of(0, 0), 4, 16, 1)).toBeNull();
    expect(addon().jpegHeader(new Uint8Array(0))).toBeNull();
    expect(addon().decodeJpeg(new Uint8Array(0), 1, 100)).toBeNull();
  });

  it('accepts and decodes the same PNGs as the JavaScript route: sharp-made, hand-made with odd filters and streams, damaged', async () => {
    const pngs = await pngVariants();
    const withAddon = outcomes(pngs);
    // The addon is read once per process: the JavaScript route's outcomes come from a child without it.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/stages/decode/png-variants.ts'], { env: { ...process.env, TEMI_NATIVE_DECODE: 'off' }, maxBuffer: 1 << 24 });
    const withoutAddon = JSON.parse(stdout) as string[];
    expect(withoutAddon).toHaveLength(pngs.length);
    expect(withAddon).toEqual(withoutAddon);
    // Both routes meet acceptance and refusal alike, not one of them only.
    const accepted = withAddon.filter((outcome) => outcome !== 'undefined').length;
    expect(accepted).toBeGreaterThan(pngs.length / 3);
    expect(accepted).toBeLessThan(pngs.length);
  });

  it("computes PNG's CRC-32 over a range as zlib does", () => {
    const bytes = new Uint8Array(noise(seededRandom(35), 5000));
    for (const [start, length] of [[0, 5000], [7, 13], [4999, 1], [100, 0]]) {
      expect(addon().crc32(bytes, start, length)).toBe(zlibCrc32(bytes.subarray(start, start + length)));
    }
    expect(addon().crc32(new Uint8Array(0), 0, 0)).toBe(0);
  });

  it('refuses wrong arguments with a coded error instead of reading out of bounds', () => {
    expect(() => addon().inflatePng(new Uint8Array(4), Int32Array.of(0, 4), 0, 4, 1)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'inflatePng: height and stride must be positive, bpp 1 to 8' }));
    for (const parts of [Int32Array.of(), Int32Array.of(0), Int32Array.of(2, 3), Int32Array.of(0, 1, -1, 1)]) {
      expect(() => addon().inflatePng(new Uint8Array(4), parts, 1, 4, 1)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'inflatePng: parts must be start, length pairs within the PNG' }));
    }
    expect(() => addon().crc32(new Uint8Array(4), 2, 3)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'crc32: the range must lie within the bytes' }));
    const src = new Uint8Array(12);
    expect(() => addon().decodeJpeg(src, 3 as 2, 100)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'shrink must be 1, 2, 4 or 8' }));
    expect(() => addon().reduceLines(src, 4, Int32Array.of(0, 3), Int32Array.of(4096, 0), 2)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: expect.stringMatching(/outside the source/) }));
    expect(() => addon().reduceLines(src, 4, Int32Array.of(0, 1, 2), Int32Array.of(4096, 0), 2)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT' }));
    expect(() => addon().reduceImage(src, 2, 2, 3, Int32Array.of(0, 5), Int32Array.of(4096, 0), 2, Int32Array.of(0, 1), Int32Array.of(4096, 0), 2)).toThrow(
      expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'reduceImage (rows): an input line is outside the source' }),
    );
    expect(() => addon().reduceImage(src, 3, 2, 3, Int32Array.of(0), Int32Array.of(4096), 1, Int32Array.of(0), Int32Array.of(4096), 1)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT' }));
    expect(() => addon().reduceImage(src, 2, 2, 3, Int32Array.of(0), Int32Array.of(4096), 1, Int32Array.of(0), Int32Array.of(4096), 1, undefined, 3)).toThrow(
      expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: "reduceImage: a box shrink must be between 1 and the axis' length" }),
    );
    expect(() => addon().reduceImage(src, 2, 2, 3, Int32Array.of(1), Int32Array.of(4096), 1, Int32Array.of(0), Int32Array.of(4096), 1, undefined, 2)).toThrow(
      expect.objectContaining({ message: 'reduceImage (rows): an input line is outside the source' }),
    );
    expect(() => addon().transpose(src, 5, 2, 1)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT' }));
    expect(() => addon().normalise(src, 3, new Float64Array(3), new Float64Array(2), false)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT' }));
    expect(() => addon().jpegHeader([1, 2, 3] as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'TS_ERR_DECODE_NATIVE_ARGUMENT', message: 'expected a Uint8Array' }));
  });

  it('is not loaded when built from other sources than the tree holds, and says what rebuilds it', async () => {
    expect(staleAddon(NATIVE_DECODE_ADDON)).toBeUndefined();
    const dir = await tempDir('temi-native-decode-');
    const old = path.join(dir, 'decode_kernels.node');
    copyFileSync(NATIVE_DECODE_ADDON.file, old);
    writeFileSync(`${old}.sources`, 'a digest of older sources\n');
    expect(staleAddon(NATIVE_DECODE_ADDON, old)).toMatch(/built from other sources .* run npm run setup to rebuild it/);
  });
});

/** PNG's filters applied (specification section 9): each row's filter-type byte, then the filtered bytes. */
function pngFiltered(raw: Uint8Array, stride: number, height: number, bpp: number, typeOf: (row: number) => number): Uint8Array {
  const out = new Uint8Array(height * (stride + 1));
  const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : raw[y * stride + x]);
  for (let y = 0; y < height; y++) {
    const type = typeOf(y);
    out[y * (stride + 1)] = type;
    for (let x = 0; x < stride; x++) {
      const a = at(x - bpp, y);
      const b = at(x, y - 1);
      const c = at(x - bpp, y - 1);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][type];
      out[y * (stride + 1) + 1 + x] = (raw[y * stride + x] - predictor) & 0xff;
    }
  }
  return out;
}
