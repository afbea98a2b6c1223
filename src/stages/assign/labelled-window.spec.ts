import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../runtime/contracts/index.ts';
import { LabelledWindow } from './labelled-window.ts';

function labelled(i: number, modelVersion: number | null, extra: Partial<StreamRecord['payload']> = {}): StreamRecord {
  return {
    id: BigInt(i),
    key: `r${i}`,
    payload: { embedding: Float32Array.of(i, 0), assignment: { cluster: modelVersion === null ? null : i % 3, confidence: 0.5, modelVersion }, ...extra },
    metadata: { origin: { source: 'test', position: i }, label: i % 3, headers: {}, ingestedAt: 0 },
    ack: { ack() {}, acked: false },
  };
}

const keysOf = (chunks: Iterable<{ key: string }[]>) => [...chunks].flat().map((e) => e.key);

describe('LabelledWindow', () => {
  it('keeps the most recent `capacity` labelled records, oldest evicted first', () => {
    const window = new LabelledWindow(3);
    for (let i = 0; i < 5; i++) window.remember(labelled(i, 1));
    expect(window.size).toBe(3);
    expect(keysOf(window.staleChunks(2, 10))).toEqual(['r2', 'r3', 'r4']);
  });

  it('a record seen again replaces its older entry and counts as newest', () => {
    const window = new LabelledWindow(3);
    for (const i of [0, 1, 2, 0, 3]) window.remember(labelled(i, 1));
    expect(keysOf(window.staleChunks(2, 10))).toEqual(['r2', 'r0', 'r3']);
  });

  it('does not keep revisions, records without an embedding or without an assignment', () => {
    const window = new LabelledWindow(10);
    window.remember(labelled(0, 2, { assignment: { cluster: 1, confidence: 1, modelVersion: 2, revision: { previousCluster: 0, previousModelVersion: 1 } } }));
    window.remember(labelled(1, 1, { embedding: undefined }));
    window.remember(labelled(2, 1, { assignment: undefined }));
    expect(window.size).toBe(0);
  });

  it('lists only entries checked against an older version, unassigned ones included, in chunks', () => {
    const window = new LabelledWindow(10);
    window.remember(labelled(0, null));
    window.remember(labelled(1, 1));
    window.remember(labelled(2, 2));
    window.remember(labelled(3, 1));
    expect([...window.staleChunks(2, 2)].map((c) => c.map((e) => e.key))).toEqual([['r0', 'r1'], ['r3']]);
    expect(keysOf(window.staleChunks(1, 10))).toEqual(['r0']);
  });

  it('visits records remembered while a pass is under way, and drops evicted ones', () => {
    const window = new LabelledWindow(4);
    for (let i = 0; i < 4; i++) window.remember(labelled(i, 1));
    const seen: string[] = [];
    const chunks = window.staleChunks(2, 1);
    for (const [entry] of chunks) {
      seen.push(entry.key);
      if (entry.key === 'r0') window.remember(labelled(4, 1)); // evicts r0 (already visited)
      if (entry.key === 'r1') window.remember(labelled(5, 1)); // evicts r1 (being visited)
      expect(window.holds(entry)).toBe(entry.key !== 'r0' && entry.key !== 'r1');
    }
    expect(seen).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('keeps nothing with capacity 0', () => {
    const window = new LabelledWindow(0);
    window.remember(labelled(0, 1));
    expect(window.size).toBe(0);
  });
});
