import { describe, expect, it } from 'vitest';
import { PixelBufferPool } from './pixel-buffer-pool.ts';

describe('PixelBufferPool', () => {
  it('lends a buffer of the length asked and lends it again once given back', () => {
    const pool = new PixelBufferPool();
    const first = pool.take(12);
    expect(first).toBeInstanceOf(Float32Array);
    expect(first.length).toBe(12);
    expect(pool.take(12)).not.toBe(first); // still lent: a new one
    pool.give(first);
    expect(pool.heldBytes).toBe(48);
    expect(pool.take(8)).not.toBe(first); // another length
    expect(pool.take(12)).toBe(first);
    expect(pool.heldBytes).toBe(0);
  });

  it('lends buffers on a SharedArrayBuffer when asked, and keeps them apart from the others', () => {
    const pool = new PixelBufferPool();
    const shared = pool.take(12, { shared: true });
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    pool.give(shared);
    const own = pool.take(12);
    expect(own).not.toBe(shared);
    expect(own.buffer).toBeInstanceOf(ArrayBuffer);
    expect(pool.take(12, { shared: true })).toBe(shared);
  });

  it('never takes back what it did not lend, nor the same buffer twice', () => {
    const pool = new PixelBufferPool();
    const foreign = new Float32Array(12);
    pool.give(foreign); // a plugin's own array, perhaps still read elsewhere
    expect(pool.take(12)).not.toBe(foreign);
    const lent = pool.take(12);
    pool.give(lent);
    pool.give(lent);
    expect(pool.take(12)).toBe(lent);
    expect(pool.take(12)).not.toBe(lent); // given twice, kept once
  });

  it('keeps at most maxFreeBytes of free buffers, so a burst does not stay resident', () => {
    const pool = new PixelBufferPool(100);
    const buffers = [pool.take(10), pool.take(10), pool.take(10)];
    for (const b of buffers) pool.give(b);
    expect(pool.heldBytes).toBe(80);
    expect(pool.take(10)).toBe(buffers[1]);
    expect(pool.take(10)).toBe(buffers[0]);
    expect(pool.take(10)).not.toBe(buffers[2]);
  });
});
