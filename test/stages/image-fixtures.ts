/** Test images made on the fly (sharp for real encoders, hand-built IDX and PNG bytes where the point is the header). */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

export async function solidImage(format: ImageFormat, width: number, height: number, colour: Rgb): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: colour } });
  return format === 'png' ? image.png().toBuffer() : format === 'jpeg' ? image.jpeg({ quality: 95 }).toBuffer() : image.webp({ lossless: true }).toBuffer();
}

/** Noise compresses badly, so the entropy-coded data is long and cutting it really truncates pixels, not the header. */
export async function noisyJpeg(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).jpeg().toBuffer();
}

/**
 * A decompression bomb: a valid 1-bit grayscale PNG declaring width x height pixels of black.
 * 10000 x 10000 (100 megapixels) compresses to about 12 KB.
 */
export function pngBomb(width: number, height: number): Buffer {
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed bits
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  const idat = deflateSync(Buffer.alloc(rowBytes * height), { level: 9 });
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The eight bytes every PNG starts with. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data and the CRC of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, crc]);
}

/** idx3-ubyte bytes for `count` images of rows x cols, pixel value from `pixel(image, index)`. */
export function idxImages(count: number, rows: number, cols: number, pixel: (image: number, index: number) => number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(rows, 8);
  header.writeUInt32BE(cols, 12);
  const data = Buffer.alloc(count * rows * cols);
  for (let n = 0; n < count; n++) for (let i = 0; i < rows * cols; i++) data[n * rows * cols + i] = pixel(n, i);
  return Buffer.concat([header, data]);
}

export function idxLabels(labels: readonly number[]): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x00000801, 0);
  header.writeUInt32BE(labels.length, 4);
  return Buffer.concat([header, Buffer.from(labels)]);
}

export async function writeFileIn(path: string, bytes: Buffer | string, gzip = false): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, gzip ? gzipSync(bytes) : bytes);
  return path;
}
