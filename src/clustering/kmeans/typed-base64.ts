/**
 * Float arrays as base64 little-endian bytes (the SerializedClusterModel convention), written
 * byte by byte through a DataView so the format does not depend on the host's endianness.
 */
import { TemiError } from '../../runtime/errors.ts';

export function encodeFloat32(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return Buffer.from(view.buffer).toString('base64');
}

export function decodeFloat32(text: string, expectedLength: number, where: string): Float32Array {
  const bytes = decodeBytes(text, expectedLength * 4, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(expectedLength);
  for (let i = 0; i < expectedLength; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function encodeFloat64(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return Buffer.from(view.buffer).toString('base64');
}

export function decodeFloat64(text: string, expectedLength: number, where: string): Float64Array {
  const bytes = decodeBytes(text, expectedLength * 8, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(expectedLength);
  for (let i = 0; i < expectedLength; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

function decodeBytes(text: string, expectedBytes: number, where: string): Buffer {
  if (typeof text !== 'string') {
    throw new TemiError('TS_ERR_MODEL_STATE', `expected a base64 string, found ${typeof text}`, { where });
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== expectedBytes) {
    throw new TemiError('TS_ERR_MODEL_STATE', `decoded ${bytes.length} bytes, expected ${expectedBytes}`, { where });
  }
  return bytes;
}
