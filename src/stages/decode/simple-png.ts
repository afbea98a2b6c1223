/**
 * A PNG decoder without libvips for the simple PNGs a stream of thumbnails carries: 8-bit grey,
 * 8-bit RGB, or palette (1, 2, 4 or 8 bits an index, expanded to RGB as libvips does); not
 * interlaced, no transparency. It exists because sharp's cost for a small image is almost all
 * per-call setup (~1.4 ms), while inflating and unfiltering a few KiB takes tens of microseconds.
 *
 * It is strict on purpose: anything it does not fully understand (another colour type or bit
 * depth, interlacing, tRNS, an ICC profile, EXIF, any chunk but IHDR/PLTE/IDAT/IEND/pHYs, a CRC or
 * Adler-32 mismatch, too little or too much data, bytes after IEND) returns undefined, and the
 * caller hands the bytes to sharp. So damaged input always meets the same decoder, and gets the
 * same dead letter, as before this path existed.
 *
 * With the native addon (native-decode.ts) the checksums, the inflate and the unfiltering run in
 * C (libdeflate): about a third less CPU for a 64 KiB PNG. The rules are the same either way.
 */
import * as zlib from 'node:zlib';
import { nativeDecode } from './native-decode.ts';
import type { RawPixels } from './raw-pixels.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GREY = 0;
const RGB = 2;
const PALETTE = 3;

/**
 * Pixels of a simple PNG, or undefined when sharp must decode it (see the module comment). Grey
 * and RGB samples are written into `out` when it is large enough (a caller's scratch it reuses;
 * the result is then a view of it), palette images always into new memory.
 */
export function decodeSimplePng(bytes: Uint8Array, maxPixels: number, out?: Uint8Array): RawPixels | undefined {
  if (bytes.length < 8 + 25 + 12 + 12) return undefined;
  const native = nativeDecode();
  const crc32 = native ? native.crc32 : zlibCrc32;
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let colourType = -1;
  let depth = 8;
  let palette: Uint8Array | undefined;
  /** Where each IDAT chunk's data lies in `bytes`: start, length, start, length... */
  const idat: number[] = [];
  let at = 8;
  let ended = false;
  let seenPhys = false;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const dataAt = at + 8;
    if (length > bytes.length - dataAt - 4) return undefined;
    if (crc32(bytes, at + 4, length + 4) !== view.getUint32(dataAt + length)) return undefined;
    const data = bytes.subarray(dataAt, dataAt + length);
    const first = at === 8;
    at = dataAt + length + 4;
    if (first !== (type === IHDR)) return undefined;
    if (type === IHDR) {
      if (length !== 13) return undefined;
      width = view.getUint32(dataAt);
      height = view.getUint32(dataAt + 4);
      const [bitDepth, colour, compression, filter, interlace] = data.subarray(8);
      if (compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
      if (colour !== GREY && colour !== RGB && colour !== PALETTE) return undefined;
      // Palette indices may be packed 1, 2 or 4 to a byte; grey samples only as whole bytes here.
      if (bitDepth !== 8 && !(colour === PALETTE && (bitDepth === 1 || bitDepth === 2 || bitDepth === 4))) return undefined;
      depth = bitDepth;
      if (width === 0 || height === 0 || width * height > maxPixels) return undefined;
      colourType = colour;
    } else if (type === PLTE) {
      if (colourType !== PALETTE || palette || idat.length > 0 || length === 0 || length % 3 !== 0 || length > 768) return undefined;
      palette = data;
    } else if (type === IDAT) {
      if (colourType === PALETTE && !palette) return undefined;
      idat.push(dataAt, length);
    } else if (type === PHYS) {
      // Pixel density only (sharp writes it); checked as libspng does, it changes no pixel.
      if (length !== 9 || seenPhys || idat.length > 0 || data[8] > 1 || view.getInt32(dataAt) < 0 || view.getInt32(dataAt + 4) < 0) return undefined;
      seenPhys = true;
    } else if (type === IEND) {
      if (length !== 0) return undefined;
      ended = true;
      break;
    } else {
      return undefined;
    }
  }
  if (!ended || at !== bytes.length || idat.length === 0) return undefined;
  const sampleBytes = colourType === RGB ? 3 : 1;
  const stride = Math.ceil((width * sampleBytes * depth) / 8);
  const samples = native ? (native.inflatePng(bytes, Int32Array.from(idat), height, stride, sampleBytes, out) ?? undefined) : inflateAndUnfilter(bytes, idat, height, stride, sampleBytes, out);
  if (!samples) return undefined;
  if (colourType !== PALETTE) return { width, height, channels: sampleBytes, data: samples };
  const rgb = expandPalette(depth === 8 ? samples : unpack(samples, stride, width, height, depth), palette!);
  return rgb && { width, height, channels: 3, data: rgb };
}

const IHDR = 0x49484452;
const PLTE = 0x504c5445;
const IDAT = 0x49444154;
const IEND = 0x49454e44;
const PHYS = 0x70485973;

function inflateAndUnfilter(bytes: Uint8Array, idat: number[], height: number, stride: number, bpp: number, out: Uint8Array | undefined): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < idat.length; i += 2) parts.push(bytes.subarray(idat[i], idat[i] + idat[i + 1]));
  const filtered = inflateExactly(parts, height * (stride + 1));
  return filtered && unfilter(filtered, stride, height, bpp, out && out.length >= stride * height ? out.subarray(0, stride * height) : new Uint8Array(stride * height));
}

/** The zlib stream inflated, only when it holds exactly `expected` bytes (and its checksum holds). */
function inflateExactly(parts: Uint8Array[], expected: number): Uint8Array | undefined {
  try {
    // One output chunk of the whole size: zlib's default 16 KiB chunks would be copied together
    // again at the end (~15% of a 64 KiB image's inflate). The +1 still lets too much data show.
    const size = Math.max(64, expected + 1);
    const out = zlib.inflateSync(parts.length === 1 ? parts[0] : Buffer.concat(parts), { maxOutputLength: size, chunkSize: size });
    return out.length === expected ? out : undefined;
  } catch {
    return undefined;
  }
}

/** PNG's per-row filters undone into `out`; undefined for a filter type PNG does not define. */
function unfilter(filtered: Uint8Array, stride: number, height: number, bpp: number, out: Uint8Array): Uint8Array | undefined {
  for (let y = 0; y < height; y++) {
    const type = filtered[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride;
    switch (type) {
      case 0:
        out.set(filtered.subarray(src, src + stride), row);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[row + x] = filtered[src + x] + (x >= bpp ? out[row + x - bpp] : 0);
        break;
      case 2:
        for (let x = 0; x < stride; x++) out[row + x] = filtered[src + x] + (y > 0 ? out[up + x] : 0);
        break;
      case 3:
        for (let x = 0; x < stride; x++) out[row + x] = filtered[src + x] + (((x >= bpp ? out[row + x - bpp] : 0) + (y > 0 ? out[up + x] : 0)) >> 1);
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[row + x - bpp] : 0;
          const b = y > 0 ? out[up + x] : 0;
          const c = x >= bpp && y > 0 ? out[up + x - bpp] : 0;
          out[row + x] = filtered[src + x] + paeth(a, b, c);
        }
        break;
      default:
        return undefined;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Packed indices (most significant bits first, rows padded to whole bytes) to one byte each. */
function unpack(packed: Uint8Array, stride: number, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * stride + Math.floor(x / perByte)];
      out[y * width + x] = (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
    }
  }
  return out;
}

/** Indices to RGB; undefined when an index points past the palette (libspng refuses those). */
function expandPalette(indices: Uint8Array, palette: Uint8Array): Uint8Array | undefined {
  const entries = palette.length / 3;
  const out = new Uint8Array(indices.length * 3);
  for (let i = 0, o = 0; i < indices.length; i++, o += 3) {
    const p = indices[i];
    if (p >= entries) return undefined;
    out[o] = palette[p * 3];
    out[o + 1] = palette[p * 3 + 1];
    out[o + 2] = palette[p * 3 + 2];
  }
  return out;
}

/** PNG's CRC-32 of bytes[start, start + length) without the addon: node's own (native, >= 20.15) where there is one. */
const zlibCrc32: (bytes: Uint8Array, start: number, length: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (bytes, start, length) => (zlib as unknown as { crc32(data: Uint8Array): number }).crc32(bytes.subarray(start, start + length))
    : tableCrc32;

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function tableCrc32(bytes: Uint8Array, start: number, length: number): number {
  let c = -1;
  for (let i = start, end = start + length; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
