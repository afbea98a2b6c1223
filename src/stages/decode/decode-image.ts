import sharp from 'sharp';
import { resizeThenCrop } from '../../embedding/preprocessing-presets.ts';
import { TemiError } from '../../runtime/contracts/index.ts';
import type { DecodeSpec } from './decode-spec.ts';
import { fastDecode } from './fast-decode.ts';
import { missingEnd, sniffFormat } from './encoded-structure.ts';
import type { RawPixels } from './raw-pixels.ts';

/** Encoded formats the stage may accept (sharp's names). SVG is left out on purpose: it can reference external files. */
export const DECODABLE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const;
export type DecodableFormat = (typeof DECODABLE_FORMATS)[number];

/** sharp's failOn levels: how strict decoding is about damaged data. */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

export interface DecodeLimits {
  readonly maxPixels: number;
  readonly formats: readonly DecodableFormat[];
  readonly failOn: FailOn;
}

export interface DecodeOptions {
  /** auto: small simple PNGs and JPEGs without libvips (fast-decode.ts, sharp's pixels), everything else with sharp; sharp: everything with sharp. */
  readonly decoder?: 'auto' | 'sharp';
}

type Target = Pick<DecodeSpec, 'width' | 'height' | 'channels' | 'fit'> & Partial<Pick<DecodeSpec, 'kernel' | 'crop'>>;

const BLACK = { r: 0, g: 0, b: 0, alpha: 1 };

// libvips' operation cache keys results by their inputs; a stream never decodes the same buffer
// twice, so the cache only costs (measured alone: 1,028 -> 1,448 small PNGs/s with it off; inside
// the Kafka pipeline, where the broker and clients share the cores, the change is within noise).
sharp.cache(false);

/**
 * Encoded bytes to 8-bit pixels of the target size and channel count: EXIF orientation applied,
 * alpha flattened onto black, resized (cover = centre crop, contain = letterbox, fill = stretch),
 * grayscale or sRGB. The header is read first, so a decompression bomb is refused by its declared
 * size before a single pixel is decoded; sharp's own pixel limit backs that up.
 */
export async function decodeImage(bytes: Uint8Array, target: Target, limits: DecodeLimits, where: string, options: DecodeOptions = {}): Promise<RawPixels> {
  if (bytes.length === 0) throw new TemiError('TS_ERR_DECODE_EMPTY', 'the image is empty (0 bytes)', { where });
  if (options.decoder !== 'sharp') {
    const fast = fastDecode(bytes, target, limits.maxPixels, limits.formats);
    if (fast) return fast;
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false, failOn: limits.failOn }).metadata();
  } catch (error) {
    throw decodeFailure(error, bytes, where);
  }
  if (!(limits.formats as readonly string[]).includes(meta.format)) {
    throw new TemiError('TS_ERR_DECODE_UNSUPPORTED_FORMAT', `${meta.format} images are not accepted (formats: ${limits.formats.join(', ')})`, { where, details: { format: meta.format } });
  }
  checkPixelCount(meta.width, meta.pageHeight ?? meta.height, limits.maxPixels, where);
  try {
    // EXIF orientations 5-8 turn the image a quarter: width and height swap after rotate().
    const turned = (meta.orientation ?? 1) >= 5;
    const source = { width: turned ? (meta.pageHeight ?? meta.height)! : meta.width!, height: turned ? meta.width! : (meta.pageHeight ?? meta.height)! };
    return await toTarget(sharp(input, { limitInputPixels: limits.maxPixels, failOn: limits.failOn, sequentialRead: true }).rotate(), target, where, source);
  } catch (error) {
    if (error instanceof TemiError) throw error;
    throw decodeFailure(error, bytes, where);
  }
}

/** Already-decoded 8-bit pixels (IDX rows) to the target size and channels; untouched when they match. */
export async function reshapeRaw(raw: RawPixels, target: Target, maxPixels: number, where: string): Promise<RawPixels> {
  checkPixelCount(raw.width, raw.height, maxPixels, where);
  if (raw.width === target.width && raw.height === target.height && raw.channels === target.channels) return raw;
  if (raw.channels !== 1 && raw.channels !== 3 && raw.channels !== 4) {
    throw new TemiError('TS_ERR_DECODE_CHANNELS', `raw pixels with ${raw.channels} channels cannot be converted (1, 3 or 4 expected)`, { where });
  }
  const input = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  return toTarget(sharp(input, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 1 | 3 | 4 } }), target, where, raw);
}

/** The shared tail of both paths: transparency onto black, resize, channels, 8-bit raw samples. */
async function toTarget(image: sharp.Sharp, target: Target, where: string, source: { width: number; height: number }): Promise<RawPixels> {
  const kernel = target.kernel ?? 'lanczos3';
  let sized = image.flatten({ background: BLACK });
  if (target.fit === 'cover' && target.crop !== undefined) {
    // The exporters' Resize(floor(size / crop)) + CenterCrop(size), to their exact pixel sizes and
    // offsets (sharp's own cover rounds them differently); extract after resize crops the result.
    const box = resizeThenCrop(source.width, source.height, target.width, target.height, target.crop);
    sized = sized.resize(box.resizeWidth, box.resizeHeight, { fit: 'fill', kernel }).extract({ left: box.left, top: box.top, width: target.width, height: target.height });
  } else {
    sized = sized.resize(target.width, target.height, { fit: target.fit, position: 'centre', background: BLACK, kernel });
  }
  const { data, info } = await sized
    .toColourspace(target.channels === 1 ? 'b-w' : 'srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return checkedRaw(data, info, target, where);
}

function checkPixelCount(width: number | undefined, height: number | undefined, maxPixels: number, where: string): void {
  if (!width || !height) throw new TemiError('TS_ERR_DECODE_CORRUPT', 'the image header declares no width or height', { where });
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new TemiError(
      'TS_ERR_DECODE_TOO_LARGE',
      `the image declares ${width}x${height} = ${megapixels(pixels)} megapixels, over the limit of ${megapixels(maxPixels)} (maxPixels); refused before decoding`,
      { where, details: { width, height, maxPixels } },
    );
  }
}

function checkedRaw(data: Buffer, info: sharp.OutputInfo, target: Target, where: string): RawPixels {
  if (info.width !== target.width || info.height !== target.height || info.channels !== target.channels) {
    throw new TemiError('TS_ERR_DECODE_CHANNELS', `decoding gave ${info.width}x${info.height}x${info.channels}, expected ${target.width}x${target.height}x${target.channels}`, { where });
  }
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * The stage's code for a failed decode. The code rests on facts we can check (sharp's own format
 * detection, the structure of the bytes); libvips's message is kept as a detail only, since
 * under concurrency it may belong to another image or be "Unknown error".
 */
export function decodeFailure(error: unknown, bytes: Uint8Array, where: string): TemiError {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
  const detail = message && !/^unknown error$/i.test(message) ? ` (${message})` : '';
  if (/^Input buffer contains unsupported image format/i.test(message) && !sniffFormat(bytes)) {
    return new TemiError('TS_ERR_DECODE_UNSUPPORTED_FORMAT', `not a recognised image (${bytes.length} bytes whose content matches no image format)`, { where, cause: error });
  }
  const missing = missingEnd(bytes);
  if (missing) {
    return new TemiError('TS_ERR_DECODE_TRUNCATED', `the image data ends early: ${bytes.length} bytes, without ${missing}${detail}`, { where, cause: error });
  }
  return new TemiError('TS_ERR_DECODE_CORRUPT', `the image could not be decoded${detail || ' (the decoder gave no details)'}`, { where, cause: error });
}

function megapixels(pixels: number): string {
  return (pixels / 1e6).toFixed(1);
}
