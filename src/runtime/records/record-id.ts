import * as crypto from 'node:crypto';

/**
 * One-shot sha256 (node >= 20.12) where there is one: about 40% cheaper per record than a Hash
 * object. As hex: a string costs the collector less than the 32-byte Buffer (an ArrayBuffer of its
 * own per record), and the id below is read off it about 20% faster.
 */
const sha256Hex: (key: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (key) => (crypto as unknown as { hash(algorithm: string, data: string, encoding: 'hex'): string }).hash('sha256', key, 'hex')
    : (key) => crypto.createHash('sha256').update(key).digest('hex');

/** A 32-bit word read off 8 hex digits, its four bytes reversed (the digest is read little-endian). */
function littleEndianWord(hex: string, at: number): bigint {
  const w = parseInt(hex.slice(at, at + 8), 16);
  return BigInt((((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)) >>> 0);
}

/**
 * The 64-bit id of a record key. Stable across runs and processes (workers and the trainer must
 * agree on it), so it is a hash of the key rather than a counter: the digest's first 8 bytes read
 * little-endian (state written by earlier versions holds these ids; the spec pins them). Built from
 * two 32-bit words: a third of the cost of parsing one reordered 16-digit string.
 */
export function recordIdOf(key: string): bigint {
  const h = sha256Hex(key);
  return (littleEndianWord(h, 8) << 32n) | littleEndianWord(h, 0);
}
