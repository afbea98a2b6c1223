import { describe, expect, it } from 'vitest';
import type { ClusterAssignment, StreamRecord } from '../../runtime/contracts/index.ts';
import { EvaluationState } from './evaluation-state.ts';

function record(i: number, label: number | undefined, assignment: ClusterAssignment): StreamRecord {
  return { id: BigInt(i), key: `r${i}`, payload: { assignment }, metadata: { origin: { source: 'test' }, label, headers: {}, ingestedAt: 0 }, ack: { ack() {}, acked: false } };
}
const first = (i: number, label: number | undefined, cluster: number | null, modelVersion: number | null = cluster === null ? null : 1) => record(i, label, { cluster, confidence: 0.9, modelVersion });
const revision = (i: number, cluster: number, previousCluster: number | null, modelVersion = 2) =>
  record(i, i % 2, { cluster, confidence: 0.9, modelVersion, revision: { previousCluster, previousModelVersion: previousCluster === null ? null : 1 } });

describe('EvaluationState: first emitted and delivered labels', () => {
  it('scores the first labels and the latest label per record apart; revisions are not records', () => {
    const state = new EvaluationState(100);
    // Ground truth alternates 0/1; the first model gets half of them wrong.
    for (let i = 0; i < 8; i++) state.observe(first(i, i % 2, i < 4 ? i % 2 : 0));
    for (let i = 4; i < 8; i++) if (i % 2 === 1) state.observe(revision(i, 1, 0));
    const report = state.report(0, 2);
    expect(report).toMatchObject({ records: 8, assigned: 8, unassigned: 0, revised: 2, modelVersion: 2 });
    expect(report.firstEmitted.cumulative).toMatchObject({ n: 8, acc: 0.75 });
    expect(report.delivered.cumulative).toMatchObject({ n: 8, acc: 1, nmi: 1, ari: 1, ami: 1 });
    expect(state.count).toBe(8);
  });

  it('rolling scores cover the last `window` labelled records, revised or not', () => {
    const state = new EvaluationState(4);
    for (let i = 0; i < 4; i++) state.observe(first(i, i % 2, i % 2)); // right
    for (let i = 4; i < 8; i++) state.observe(first(i, i % 2, 0)); // half wrong
    expect(state.report(0, 2).firstEmitted.rolling).toMatchObject({ n: 4, acc: 0.5 });
    state.observe(revision(5, 1, 0));
    state.observe(revision(7, 1, 0));
    const report = state.report(0, 2);
    expect(report.delivered.rolling).toMatchObject({ n: 4, acc: 1 });
    expect(report.firstEmitted.rolling).toMatchObject({ n: 4, acc: 0.5 });
  });

  it('leaves unassigned first labels out of the first-emitted score and counts them once a revision assigns them', () => {
    const state = new EvaluationState(100);
    for (let i = 0; i < 4; i++) state.observe(first(i, i % 2, null));
    for (let i = 4; i < 8; i++) state.observe(first(i, i % 2, i % 2));
    for (let i = 0; i < 4; i++) state.observe(revision(i, i % 2, null));
    const report = state.report(0, 2);
    expect(report).toMatchObject({ records: 8, assigned: 4, unassigned: 4, revised: 4 });
    expect(report.firstEmitted.cumulative?.n).toBe(4);
    expect(report.delivered.cumulative).toMatchObject({ n: 8, acc: 1 });
  });

  it('applies revisions only to the most recent `revisable` records', () => {
    const state = new EvaluationState(100, 2);
    for (let i = 0; i < 4; i++) state.observe(first(i, i % 2, 0));
    state.observe(revision(1, 1, 0)); // forgotten: not among the last two
    state.observe(revision(3, 1, 0));
    expect(state.report(0, 2).delivered.cumulative).toMatchObject({ acc: 0.75 });
  });

  it('restores its own snapshot, and one written before revisions existed', () => {
    const state = new EvaluationState(100);
    for (let i = 0; i < 4; i++) state.observe(first(i, i % 2, 0));
    state.observe(revision(1, 1, 0));
    const again = new EvaluationState(100);
    again.restore(JSON.parse(JSON.stringify(state.snapshot())));
    const { health: _restoredHealth, ...restored } = again.report(0, 2);
    const { health: _health, ...saved } = state.report(0, 2);
    expect(restored).toEqual(saved);

    const old = new EvaluationState(100);
    old.restore({ truth: [0, 1, 0, 1], pred: [0, 1, 0, 0], records: 5, unassigned: 1, lastVersion: 3 });
    expect(old.report(0, 2)).toMatchObject({ records: 5, unassigned: 1, revised: 0, firstEmitted: { cumulative: { acc: 0.75 } }, delivered: { cumulative: { acc: 0.75 } } });
  });
});
