import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offset-tracker.ts';

describe('OffsetTracker', () => {
  it('commits only the contiguous acknowledged prefix', () => {
    const t = new OffsetTracker();
    for (const o of [10n, 11n, 12n, 13n]) t.track(o);
    t.ack(12n);
    expect(t.commitPosition).toBeUndefined();
    t.ack(10n);
    expect(t.commitPosition).toBe(11n);
    t.ack(11n);
    expect(t.commitPosition).toBe(13n);
    expect(t.outstanding).toBe(1);
    t.ack(13n);
    expect(t.commitPosition).toBe(14n);
    expect(t.outstanding).toBe(0);
  });

  it('handles gaps in offsets (compacted topics, transactions markers)', () => {
    const t = new OffsetTracker();
    for (const o of [5n, 9n, 20n]) t.track(o);
    t.ack(9n);
    t.ack(5n);
    expect(t.commitPosition).toBe(10n);
  });
});
