import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { readIdxImages, type IdxImages } from '../datasets/index.ts';
import type { ClusterSample } from './report-data.ts';

const THUMB = 56;

/** IDX files are recognised by name (the files source reads them as pairs; folders hold image files). */
function isIdxFile(file: string): boolean {
  return /ubyte|\.idx/i.test(file);
}

/** Replay files (JSON lines of envelopes): origin.position is the 1-based line. */
function isReplayFile(file: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(file);
}

/** The base64 `image` of the wanted lines of a replay file, in one pass. */
async function replayImages(file: string, lines: ReadonlySet<number>): Promise<Map<number, Buffer>> {
  const found = new Map<number, Buffer>();
  let line = 0;
  try {
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      line++;
      if (!lines.has(line)) continue;
      try {
        const image = (JSON.parse(text) as { image?: unknown }).image;
        if (typeof image === 'string') found.set(line, Buffer.from(image, 'base64'));
      } catch {
        // A malformed line was dead-lettered by the source; it has no thumbnail.
      }
      if (found.size === lines.size) break;
    }
  } catch {
    // The replay file is gone: no thumbnails from it.
  }
  return found;
}

const thumbnail = (bytes: Buffer) => sharp(bytes, { limitInputPixels: 64e6 }).resize(THUMB, THUMB, { fit: 'contain', background: '#fff' }).png().toBuffer();

/**
 * Re-reads each sample's image from where the source found it (an IDX row, a replay file's
 * line, or an image file)
 * and encodes a small PNG data: URI. A sample whose image is gone or unreadable gets none.
 */
export async function renderThumbnails(samples: readonly ClusterSample[]): Promise<Map<string, string>> {
  const idxFiles = new Map<string, Promise<IdxImages | undefined>>();
  const replayed = new Map<string, Map<number, Buffer>>();
  for (const file of new Set(samples.map((s) => s.origin?.file).filter((f): f is string => !!f && isReplayFile(f)))) {
    const lines = new Set(samples.filter((s) => s.origin?.file === file && s.origin.position !== undefined).map((s) => s.origin!.position!));
    replayed.set(file, await replayImages(file, lines));
  }
  const out = new Map<string, string>();
  for (const sample of samples) {
    const file = sample.origin?.file;
    if (!file) continue;
    try {
      let png: Buffer | undefined;
      if (isReplayFile(file)) {
        const bytes = replayed.get(file)?.get(sample.origin?.position ?? -1);
        if (bytes) png = await thumbnail(bytes);
      } else if (isIdxFile(file)) {
        if (!idxFiles.has(file)) idxFiles.set(file, readIdxImages(file).catch(() => undefined));
        const images = await idxFiles.get(file);
        const row = sample.origin?.position;
        if (images && row !== undefined && row >= 0 && row < images.count) {
          const size = images.rows * images.cols;
          const pixels = images.pixels.subarray(row * size, (row + 1) * size);
          png = await sharp(Buffer.from(pixels), { raw: { width: images.cols, height: images.rows, channels: 1 } }).png().toBuffer();
        }
      } else {
        png = await thumbnail(await readFile(file));
      }
      if (png) out.set(sample.key, `data:image/png;base64,${png.toString('base64')}`);
    } catch {
      // An unreadable image shows as an empty tile; the report still renders.
    }
  }
  return out;
}
