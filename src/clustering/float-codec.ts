/**
 * Float arrays as base64 of their little-endian bytes: how every trainer and model serializes
 * tensors (SerializedClusterModel, trainer snapshots). Written through a DataView so the format
 * does not depend on the host's byte order.
 */
import { TemiError } from '../runtime/errors.ts';

const INVALID = 'TS_ERR_MODEL_STATE_INVALID';

export function encodeFloat32(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return Buffer.from(view.buffer).toString('base64');
}

/**
 * A Float32Array as a trainer snapshot now holds it (the pipeline's snapshot stores it as a
 * binary file beside snapshot.json), or base64 as snapshots written before that did.
 */
export function decodeFloat32(encoded: unknown, expectedLength: number, where: string, code = INVALID): Float32Array {
  if (encoded instanceof Float32Array) {
    if (encoded.length !== expectedLength) throw new TemiError(code, `expected ${expectedLength} float32 values, found ${encoded.length}`, { where });
    return encoded;
  }
  const view = decodeBytes(encoded, expectedLength, 4, where, code);
  const out = new Float32Array(expectedLength);
  for (let i = 0; i < expectedLength; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function encodeFloat64(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return Buffer.from(view.buffer).toString('base64');
}

export function decodeFloat64(encoded: unknown, expectedLength: number, where: string, code = INVALID): Float64Array {
  const view = decodeBytes(encoded, expectedLength, 8, where, code);
  const out = new Float64Array(expectedLength);
  for (let i = 0; i < expectedLength; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

function decodeBytes(encoded: unknown, expectedLength: number, width: number, where: string, code: string): DataView {
  if (typeof encoded !== 'string') throw new TemiError(code, `expected a typed array or a base64 string, found ${encoded === null ? 'null' : typeof encoded}`, { where });
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== expectedLength * width) {
    throw new TemiError(code, `expected ${expectedLength} float${width * 8} values, found ${bytes.length / width}`, { where });
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
