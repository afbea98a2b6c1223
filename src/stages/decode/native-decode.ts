/**
 * The decode stage's native fast path (native/decode_kernels.c, built by `npm run setup` into
 * build/native/decode_kernels.node): libjpeg-turbo for JPEGs, libdeflate for PNG data, the inner
 * loops of libvips' reduce, and bytes to model input. Without the addon (no C compiler, libjpeg or
 * libdeflate headers where it was set up, or TEMI_NATIVE_DECODE=off) JPEGs go to sharp, PNGs are
 * inflated by node's zlib and the reduce runs in JavaScript: the same pixels, more CPU per image.
 */
import { fileURLToPath } from 'node:url';
import { loadNativeAddon, sourcesDigest, type NativeAddonSpec } from '../../native/native-addon.ts';
import type { RawPixels } from './raw-pixels.ts';

export const NATIVE_DECODE_ADDON: NativeAddonSpec = {
  file: fileURLToPath(new URL('../../../build/native/decode_kernels.node', import.meta.url)),
  sourcesDir: fileURLToPath(new URL('./native/', import.meta.url)),
  sourceNames: /\.[ch]$/,
  setupCommand: 'npm run setup',
  envVariable: 'TEMI_NATIVE_DECODE',
};

/** What libjpeg reads before decoding, with what sharp acts on besides the pixels. */
export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly colour: 'grey' | 'ycbcr' | 'rgb' | 'cmyk' | 'ycck' | 'other';
  /** EXIF orientation, 1 when there is none; 0 when the EXIF block could not be read. */
  readonly orientation: number;
  /** An embedded ICC profile (sharp converts through it to sRGB). */
  readonly icc: boolean;
}

export interface NativeDecode {
  /** The header, or null when libjpeg cannot read one. */
  jpegHeader(bytes: Uint8Array): JpegHeader | null;
  /** Grey or RGB pixels at 1 / shrink scale; null on any libjpeg error or warning, CMYK, or more than maxPixels declared. Written into `out` (a view of it) when that is large enough. */
  decodeJpeg(bytes: Uint8Array, shrink: 1 | 2 | 4 | 8, maxPixels: number, out?: Uint8Array): RawPixels | null;
  /** vips-reduce.ts's line reduce: `taps` input lines and mask weights per output line. */
  reduceLines(src: Uint8Array, lineLength: number, inputs: Int32Array, masks: Int32Array, taps: number): Uint8Array;
  /** Rows (a box shrink by boxRows, then reduceLines), then columns (the same, as rows of the transposed image), in one call; the box shrinks are 1 when absent. */
  reduceImage(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    rowInputs: Int32Array,
    rowMasks: Int32Array,
    rowTaps: number,
    columnInputs: Int32Array,
    columnMasks: Int32Array,
    columnTaps: number,
    out?: Uint8Array,
    boxRows?: number,
    boxColumns?: number,
  ): Uint8Array;
  /** width x height pixels of `channels` samples to height x width. */
  transpose(src: Uint8Array, width: number, height: number, channels: number): Uint8Array;
  /** normalise-pixels.ts's byte gain[c] + shift[c], the same float32 values; planar = CHW. */
  normalise(src: Uint8Array, channels: number, gain: Float64Array, shift: Float64Array, planar: boolean, out?: Float32Array): Float32Array;
  /**
   * A PNG's zlib stream (the data of its IDAT chunks, at parts' start, length pairs in `png`, in
   * order) inflated and unfiltered to height x stride bytes; bpp = bytes a pixel (1 for packed
   * palette indices). null unless it inflates to exactly height x (stride + 1) bytes with a valid
   * Adler-32 and every row's filter type is defined. Written into `out` (a view of it) when that
   * is large enough.
   */
  inflatePng(png: Uint8Array, parts: Int32Array, height: number, stride: number, bpp: number, out?: Uint8Array): Uint8Array | null;
  /** CRC-32 (PNG's, zlib's) of bytes[start, start + length). */
  crc32(bytes: Uint8Array, start: number, length: number): number;
}

let loaded: { addon?: NativeDecode; reason?: string } | undefined;

/** The addon, or undefined when it is off, not built or stale (nativeDecodeStatus says which). */
export function nativeDecode(): NativeDecode | undefined {
  if (!loaded) {
    const result = loadNativeAddon<NativeDecode>(NATIVE_DECODE_ADDON);
    loaded = result.exports ? { addon: result.exports } : { reason: result.reason };
  }
  return loaded.addon;
}

/** "native" or why not, for benchmarks and logs. */
export function nativeDecodeStatus(): string {
  return nativeDecode() ? 'native (libjpeg-turbo, libdeflate, native reduce)' : `JavaScript only, JPEGs with sharp: ${loaded?.reason ?? 'unknown'}`;
}

/** The digest of native/ that the build script writes beside the addon. */
export function nativeDecodeSourcesDigest(): string {
  return sourcesDigest(NATIVE_DECODE_ADDON);
}
