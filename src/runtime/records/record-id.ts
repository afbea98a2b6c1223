import { createHash } from 'node:crypto';

/**
 * The 64-bit id of a record key. Stable across runs and processes (workers and the trainer must
 * agree on it), so it is a hash of the key rather than a counter.
 */
export function recordIdOf(key: string): bigint {
  return createHash('sha256').update(key).digest().readBigUInt64LE(0);
}
