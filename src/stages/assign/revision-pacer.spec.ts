import { describe, expect, it } from 'vitest';
import { RevisionPacer } from './revision-pacer.ts';

/** A clock that only moves when the pacer sleeps, so the waits it asks for are exact. */
function pacedClock(perSecond: number) {
  let now = 1000;
  const sleeps: number[] = [];
  const pacer = new RevisionPacer(
    perSecond,
    () => now,
    async (ms) => {
      sleeps.push(Math.round(ms));
      now += ms;
    },
  );
  return { pacer, sleeps, advance: (ms: number) => (now += ms) };
}

describe('RevisionPacer', () => {
  it('lets one second of revisions through at once, then paces the rest at the rate', async () => {
    const { pacer, sleeps } = pacedClock(100);
    await pacer.take(60);
    await pacer.take(40);
    expect(sleeps).toEqual([]);
    await pacer.take(50);
    await pacer.take(25);
    expect(sleeps).toEqual([500, 250]);
  });

  it('saves up at most one second while idle', async () => {
    const { pacer, sleeps, advance } = pacedClock(100);
    await pacer.take(100);
    advance(60_000);
    await pacer.take(150);
    expect(sleeps).toEqual([500]);
  });
});
