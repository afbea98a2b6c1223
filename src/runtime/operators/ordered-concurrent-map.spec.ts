import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { orderedConcurrentMap } from './ordered-concurrent-map.ts';

describe('orderedConcurrentMap', () => {
  it('runs up to the limit at once and emits in input order', async () => {
    let running = 0;
    let peak = 0;
    const work = async (i: number) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, (12 - i) * 2));
      running--;
      return i * 10;
    };
    const out = await lastValueFrom(from(Array.from({ length: 12 }, (_, i) => i)).pipe(orderedConcurrentMap(4, work), toArray()));
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => i * 10));
    expect(peak).toBe(4);
  });

  it('lets synchronous results through at once and keeps them behind earlier asynchronous ones', async () => {
    // Even inputs answer at once (the fast path), odd ones later (sharp): the order still holds.
    const work = (i: number): number | Promise<number> => (i % 2 === 0 ? i : new Promise((resolve) => setTimeout(() => resolve(i), (10 - i) * 2)));
    const out = await lastValueFrom(from(Array.from({ length: 10 }, (_, i) => i)).pipe(orderedConcurrentMap(2, work), toArray()));
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const first: number[] = [];
    from([0, 2, 4]).pipe(orderedConcurrentMap(1, (i: number) => i)).subscribe((v) => first.push(v));
    expect(first, 'emitted synchronously, nothing pending').toEqual([0, 2, 4]);
  });
});
