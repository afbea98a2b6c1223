import { TemiError } from '../../runtime/errors.ts';

/** Float32 values as base64 of their little-endian bytes, whatever the host's byte order. */
export function float32ToBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i], i * 4);
  return bytes.toString('base64');
}

export function float32FromBase64(encoded: unknown, expectedLength: number, where: string, code: string): Float32Array {
  if (typeof encoded !== 'string') {
    throw new TemiError(code, `expected a base64 string, found ${typeof encoded}`, { where });
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== expectedLength * 4) {
    throw new TemiError(code, `expected ${expectedLength} float32 values, found ${bytes.length / 4}`, { where });
  }
  const out = new Float32Array(expectedLength);
  for (let i = 0; i < expectedLength; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
