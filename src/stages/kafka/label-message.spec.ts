import { describe, expect, it } from 'vitest';
import type { ClusterAssignment, StreamRecord } from '../../runtime/contracts/index.ts';
import { labelMessage, labelValue } from './label-message.ts';

function record(key: string, assignment?: ClusterAssignment, label?: number): StreamRecord {
  return {
    id: 1n,
    key,
    payload: assignment ? { assignment } : {},
    metadata: { origin: { source: 'kafka' }, label, headers: {}, ingestedAt: 0 },
    ack: { acked: false, ack() {} },
  };
}

const now = 1_733_350_000_123;

describe('labelMessage', () => {
  it('writes an unassigned record as nulls under its key', () => {
    const message = labelMessage(record('img-7'), now);
    expect(message.key).toBe('img-7');
    expect(JSON.parse(message.value)).toEqual({ id: 'img-7', cluster: null, confidence: null, modelVersion: null, ts: now });
  });

  it('writes a revised label with what downstream held before', () => {
    const value = JSON.parse(labelMessage(record('img-8', { cluster: 4, confidence: 0.75, modelVersion: 3, revision: { previousCluster: 1, previousModelVersion: 2 } }, 9), now).value);
    expect(value).toEqual({ id: 'img-8', cluster: 4, confidence: 0.75, modelVersion: 3, ts: now, label: 9, revision: true, previousCluster: 1, previousModelVersion: 2 });
  });

  // Downstream consumers may compare values byte for byte (a compacted topic, a dedup cache):
  // the value written directly must be the one JSON.stringify gave before, field order included.
  it('writes exactly what JSON.stringify writes for the same label', () => {
    const keys = ['img-0', '', 'quote " and \\ backslash', 'tab\tnew\nline', 'ключ 🖼️', '\u0000\u001f\u2028', 'lone \ud800 surrogate'];
    const assignments: Array<ClusterAssignment | undefined> = [
      undefined,
      { cluster: null, confidence: 0, modelVersion: null },
      { cluster: 0, confidence: 1, modelVersion: 1 },
      { cluster: 12, confidence: 0.1 + 0.2, modelVersion: 7 },
      { cluster: 3, confidence: 1e-9, modelVersion: 2 },
      { cluster: 3, confidence: -0, modelVersion: 2 },
      { cluster: 3, confidence: Number.NaN, modelVersion: 2 },
      { cluster: 5, confidence: 0.5, modelVersion: 9, revision: { previousCluster: null, previousModelVersion: null } },
      { cluster: 5, confidence: 0.5, modelVersion: 9, revision: { previousCluster: 2, previousModelVersion: 8 } },
    ];
    for (const key of keys)
      for (const assignment of assignments)
        for (const label of [undefined, 0, 41]) {
          const r = record(key, assignment, label);
          expect(labelMessage(r, now).value, `${key} ${JSON.stringify(assignment)} ${label}`).toBe(JSON.stringify(labelValue(r, now)));
        }
  });
});
