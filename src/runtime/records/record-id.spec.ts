import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recordIdOf } from './record-id.ts';

describe('recordIdOf', () => {
  it('gives the ids earlier versions stored: the first 8 bytes of sha256(key), little-endian', () => {
    // Pinned: index files, models and the labels topic's record-id header hold these.
    expect(recordIdOf('img-0')).toBe(15340657426346395867n);
    expect(recordIdOf('topic/3@17')).toBe(5977798993188381409n);
    expect(recordIdOf('ключ 🖼️')).toBe(8114543382843080055n);
    expect(recordIdOf('')).toBe(1449310910991872227n);
    for (let i = 0; i < 500; i++) {
      const key = `orders/${i % 7}@${i * 7919}-${'x'.repeat(i % 13)}`;
      expect(recordIdOf(key), key).toBe(createHash('sha256').update(key).digest().readBigUInt64LE(0));
    }
  });
});
