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

/**
 * The 64-bit id of a record key. Stable across runs and processes (workers and the trainer must
 * agree on it), so it is a hash of the key rather than a counter: the digest's first 8 bytes read
 * little-endian (state written by earlier versions holds these ids; the spec pins them).
 */
export function recordIdOf(key: string): bigint {
  const h = sha256Hex(key);
  return BigInt(`0x${h[14]}${h[15]}${h[12]}${h[13]}${h[10]}${h[11]}${h[8]}${h[9]}${h[6]}${h[7]}${h[4]}${h[5]}${h[2]}${h[3]}${h[0]}${h[1]}`);
}
