import type { DecodedPixels } from '../runtime/contracts/record.ts';
import { TemiError } from '../runtime/errors.ts';

/** Image geometry an embedder accepts; a dimension left undefined accepts any size. */
export interface ExpectedGeometry {
  readonly width?: number;
  readonly height?: number;
  readonly channels?: number;
}

/**
 * Checks that a record carries pixels an embedder can use, and says precisely what is wrong when
 * not. These are per-record faults (a decoder bug, a stray grayscale JPEG): the stage dead-letters
 * the one record instead of failing its batch.
 */
export function checkPixels(pixels: unknown, expected: ExpectedGeometry): DecodedPixels {
  if (pixels === undefined || pixels === null) {
    throw new TemiError('TS_ERR_EMBED_NO_PIXELS', 'the record has no payload.pixels; put a decode stage before embed', { where: 'payload.pixels' });
  }
  const p = pixels as Partial<DecodedPixels>;
  if (!(p.data instanceof Float32Array) || !isPositiveInt(p.width) || !isPositiveInt(p.height) || !isPositiveInt(p.channels)) {
    throw new TemiError('TS_ERR_EMBED_PIXELS_INVALID', 'payload.pixels must be { width, height, channels: positive integers, data: Float32Array }', { where: 'payload.pixels' });
  }
  const { width, height, channels, data } = p as DecodedPixels;
  if (data.length !== width * height * channels) {
    throw new TemiError('TS_ERR_EMBED_PIXELS_LENGTH', `payload.pixels.data has ${data.length} values but ${width}x${height}x${channels} needs ${width * height * channels}`, {
      where: 'payload.pixels.data',
    });
  }
  const wrong =
    (expected.width !== undefined && width !== expected.width) ||
    (expected.height !== undefined && height !== expected.height) ||
    (expected.channels !== undefined && channels !== expected.channels);
  if (wrong) {
    throw new TemiError('TS_ERR_EMBED_PIXELS_SHAPE', `the model takes ${describeGeometry(expected)} images, this record has ${width}x${height}x${channels} (width x height x channels); set the decode stage's size/preset to match`, {
      where: 'payload.pixels',
      details: { expected, found: { width, height, channels } },
    });
  }
  return p as DecodedPixels;
}

export function describeGeometry(g: ExpectedGeometry): string {
  return `${g.width ?? 'any'}x${g.height ?? 'any'}x${g.channels ?? 'any'}`;
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}
