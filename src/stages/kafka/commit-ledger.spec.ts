import { describe, expect, it } from 'vitest';
import { CommitLedger } from './commit-ledger.ts';

describe('CommitLedger', () => {
  it('commits only the contiguous acknowledged prefix, as the next offset to read', () => {
    const ledger = new CommitLedger();
    const acks = [0, 1, 2, 3].map((o) => ledger.read('images', 0, String(o)));
    acks[0]();
    acks[2]();
    expect(ledger.due()).toEqual([{ topic: 'images', partition: 0, offset: '1' }]);
    acks[1]();
    expect(ledger.due()).toEqual([{ topic: 'images', partition: 0, offset: '3' }]);
    acks[3]();
    expect(ledger.due()).toEqual([{ topic: 'images', partition: 0, offset: '4' }]);
  });

  it('offers nothing again once a position is committed, and keeps partitions apart', () => {
    const ledger = new CommitLedger();
    ledger.read('images', 0, '5')();
    const pending = ledger.read('images', 1, '9');
    // Partition 1 may only be committed where its reading started.
    expect(ledger.due()).toEqual([
      { topic: 'images', partition: 0, offset: '6' },
      { topic: 'images', partition: 1, offset: '9' },
    ]);
    ledger.committed(ledger.due());
    expect(ledger.due()).toEqual([]);
    pending();
    expect(ledger.due()).toEqual([{ topic: 'images', partition: 1, offset: '10' }]);
    expect(ledger.committedPositions()).toEqual({ images: { '0': '6', '1': '9' } });
  });

  it('regression: a partition re-read after a rebalance does not commit past records of the first reading still in flight', () => {
    const ledger = new CommitLedger();
    const firstReading = [10, 11, 12].map((o) => ledger.read('images', 0, String(o)));
    firstReading[0]();
    // The group moved the partition away and back: it is read again from the committed 11.
    const secondReading = [11, 12, 13].map((o) => ledger.read('images', 0, String(o)));
    secondReading.forEach((ack) => ack());
    expect(ledger.due()).toEqual([{ topic: 'images', partition: 0, offset: '11' }]);
    firstReading[1]();
    firstReading[2]();
    expect(ledger.due()).toEqual([{ topic: 'images', partition: 0, offset: '14' }]);
    expect(ledger.outstanding).toBe(0);
  });

  it('acknowledging twice counts once', () => {
    const ledger = new CommitLedger();
    const ack = ledger.read('images', 0, '0');
    ledger.read('images', 0, '0');
    ack();
    ack();
    expect(ledger.outstanding).toBe(1);
  });
});
