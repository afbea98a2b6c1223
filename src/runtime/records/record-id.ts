import * as crypto from 'node:crypto';

/** One-shot sha256 (node >= 20.12) where there is one: about 40% cheaper per record than a Hash object. */
const sha256: (key: string) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (key) => (crypto as unknown as { hash(algorithm: string, data: string, encoding: 'buffer'): Buffer }).hash('sha256', key, 'buffer')
    : (key) => crypto.createHash('sha256').update(key).digest();

/**
 * The 64-bit id of a record key. Stable across runs and processes (workers and the trainer must
 * agree on it), so it is a hash of the key rather than a counter.
 */
export function recordIdOf(key: string): bigint {
  return sha256(key).readBigUInt64LE(0);
}
