import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { TemiError } from '../runtime/errors.ts';
import { checkDataLength, parseIdxHeader } from './idx-format.ts';

export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** count x rows x cols bytes, row-major, one image after another. */
  readonly pixels: Uint8Array;
}

export interface LabelledIdxImages extends IdxImages {
  readonly labels: Int32Array;
}

/** Reads an idx3-ubyte image file, plain or gzip-compressed (detected by content, not by name). */
export async function readIdxImages(file: string): Promise<IdxImages> {
  const bytes = await readIdxBytes(file);
  const header = parseIdxHeader(bytes, file, 3);
  checkDataLength(header, bytes.length, file);
  const [count, rows, cols] = header.dims;
  return { count, rows, cols, pixels: bytes.subarray(header.dataOffset) };
}

/** Reads an idx1-ubyte label file, plain or gzip-compressed. */
export async function readIdxLabels(file: string): Promise<Int32Array> {
  const bytes = await readIdxBytes(file);
  const header = parseIdxHeader(bytes, file, 1);
  checkDataLength(header, bytes.length, file);
  return Int32Array.from(bytes.subarray(header.dataOffset));
}

/** An image file and its label file, checked to describe the same number of records. */
export async function readIdxPair(imagesFile: string, labelsFile: string): Promise<LabelledIdxImages> {
  const [images, labels] = await Promise.all([readIdxImages(imagesFile), readIdxLabels(labelsFile)]);
  if (labels.length !== images.count) {
    throw new TemiError(
      'TS_ERR_IDX_COUNT_MISMATCH',
      `${imagesFile} holds ${images.count} images but ${labelsFile} holds ${labels.length} labels`,
      { where: labelsFile, details: { imagesFile, labelsFile } },
    );
  }
  return { ...images, labels };
}

/** The file's bytes, gunzipped when they start with the gzip magic 1f 8b. */
export async function readIdxBytes(file: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new TemiError(
      code === 'ENOENT' ? 'TS_ERR_IDX_NOT_FOUND' : 'TS_ERR_IDX_UNREADABLE',
      code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'unknown error'})`,
      { where: file, details: { file }, cause },
    );
  }
  if (!isGzip(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    const inflated = gunzipSync(raw);
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (cause) {
    throw new TemiError(
      'TS_ERR_IDX_GZIP',
      `the gzip stream is damaged or ends early (${(cause as Error).message}); the compressed file is ${raw.length} bytes`,
      { where: `${file}@${raw.length}`, details: { file, offset: raw.length }, cause },
    );
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
