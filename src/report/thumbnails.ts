import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { readIdxImages, type IdxImages } from '../datasets/index.ts';
import type { ClusterSample } from './report-data.ts';

const THUMB = 56;

/** IDX files are recognised by name (the files source reads them as pairs; folders hold image files). */
function isIdxFile(file: string): boolean {
  return /ubyte|\.idx/i.test(file);
}

/**
 * Re-reads each sample's image from where the source found it (an IDX row, or an image file)
 * and encodes a small PNG data: URI. A sample whose image is gone or unreadable gets none.
 */
export async function renderThumbnails(samples: readonly ClusterSample[]): Promise<Map<string, string>> {
  const idxFiles = new Map<string, Promise<IdxImages | undefined>>();
  const out = new Map<string, string>();
  for (const sample of samples) {
    const file = sample.origin?.file;
    if (!file) continue;
    try {
      let png: Buffer | undefined;
      if (isIdxFile(file)) {
        if (!idxFiles.has(file)) idxFiles.set(file, readIdxImages(file).catch(() => undefined));
        const images = await idxFiles.get(file);
        const row = sample.origin?.position;
        if (images && row !== undefined && row >= 0 && row < images.count) {
          const size = images.rows * images.cols;
          const pixels = images.pixels.subarray(row * size, (row + 1) * size);
          png = await sharp(Buffer.from(pixels), { raw: { width: images.cols, height: images.rows, channels: 1 } }).png().toBuffer();
        }
      } else {
        png = await sharp(await readFile(file), { limitInputPixels: 64e6 }).resize(THUMB, THUMB, { fit: 'contain', background: '#fff' }).png().toBuffer();
      }
      if (png) out.set(sample.key, `data:image/png;base64,${png.toString('base64')}`);
    } catch {
      // An unreadable image shows as an empty tile; the report still renders.
    }
  }
  return out;
}
