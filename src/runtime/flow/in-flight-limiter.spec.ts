import { describe, expect, it } from 'vitest';
import { InFlightLimiter } from './in-flight-limiter.ts';

describe('InFlightLimiter', () => {
  it('pauses at the bound and resumes once acks bring it down to the low-water mark', async () => {
    const limiter = new InFlightLimiter(4, 2);
    const changes: boolean[] = [];
    limiter.onChange((p) => changes.push(p));
    for (let i = 0; i < 4; i++) limiter.acquire();
    expect(limiter.paused).toBe(true);
    let ready = false;
    const waiting = limiter.whenReady().then(() => (ready = true));
    limiter.release();
    await Promise.resolve();
    expect(ready).toBe(false); // still above the low-water mark: stay paused to avoid flapping
    limiter.release();
    await waiting;
    expect(ready).toBe(true);
    expect(changes).toEqual([true, false]);
  });

  it('whenDrained resolves when every record is acknowledged', async () => {
    const limiter = new InFlightLimiter(10);
    limiter.acquire();
    limiter.acquire();
    let drained = false;
    const p = limiter.whenDrained().then(() => (drained = true));
    limiter.release();
    await Promise.resolve();
    expect(drained).toBe(false);
    limiter.release();
    await p;
    expect(drained).toBe(true);
  });
});
