import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Fashion-MNIST as installed by Debian's dataset-fashion-mnist package. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Parses a gzipped IDX3 image file (magic 0x00000803, big-endian counts) into rows of pixels / 255. */
export function readIdxImages(path: string, limit = Infinity): { count: number; dim: number; pixels: Float32Array } {
  const bytes = gunzipSync(readFileSync(path));
  const magic = bytes.readUInt32BE(0);
  if (magic !== 0x00000803) throw new Error(`${path}: not an IDX3 ubyte file (magic 0x${magic.toString(16)})`);
  const count = Math.min(bytes.readUInt32BE(4), limit);
  const dim = bytes.readUInt32BE(8) * bytes.readUInt32BE(12);
  const pixels = new Float32Array(count * dim);
  for (let i = 0; i < pixels.length; i++) pixels[i] = bytes[16 + i] / 255;
  return { count, dim, pixels };
}

export function fashionMnistTestImages(limit?: number): { count: number; dim: number; pixels: Float32Array } {
  return fashionMnistImages('t10k', limit);
}

export function fashionMnistImages(split: 'train' | 't10k', limit?: number): { count: number; dim: number; pixels: Float32Array } {
  const path = `${FASHION_MNIST_DIR}/${split}-images-idx3-ubyte.gz`;
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: install the Debian package dataset-fashion-mnist (npm run setup:datasets)`);
  }
  return readIdxImages(path, limit);
}
