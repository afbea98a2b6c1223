import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { definePlugin, s, services } from '../../src/runtime/contracts/index.ts';
import { runForTest, tempDir } from '../support/pipeline-harness.ts';

describe('snapshots and source checkpoints', () => {
  it('commits source positions only after the snapshot covering them is durable, and only in a stateful pipeline', async () => {
    const dir = await tempDir();
    const events: string[] = [];
    let acked = 0;
    let statefulSeen: boolean | undefined;
    const source = definePlugin({
      name: 'counting-source',
      kind: 'source',
      description: 'Emits 50 records and checkpoints the count of acknowledged ones.',
      configSchema: s.object({}),
      deps: { records: services.records, pipeline: services.pipeline },
      create: ({ deps }) => ({
        start() {
          statefulSeen = deps.pipeline.stateful;
        },
        open: () => from(Array.from({ length: 50 }, (_, i) => deps.records.create({ key: `k${i}`, payload: {}, origin: { source: 'counting-source' }, onAck: () => acked++ }))),
        close() {},
        checkpoint: () => acked,
        commitCheckpoint(position) {
          events.push(`commit ${String(position)} snapshot-exists=${existsSync(join(dir, 'state/cp/snapshot.json'))}`);
        },
      }),
    });
    const counter = definePlugin({
      name: 'counting-stage',
      kind: 'stage',
      description: 'Keeps a count in its snapshot.',
      configSchema: s.object({}),
      deps: {},
      create: () => {
        let seen = 0;
        return {
          operator: tap(() => seen++),
          snapshot: () => {
            events.push(`snapshot ${seen}`);
            return { seen };
          },
        };
      },
    });
    await runForTest({ name: 'cp', source: { use: 'counting-source' }, stages: [{ use: 'counting-stage' }], sink: { use: 'jsonl', with: { path: 'o.jsonl' } } }, dir, [source, counter]);
    expect(statefulSeen).toBe(true);
    expect(events).toEqual(['snapshot 50', 'commit 50 snapshot-exists=true']);
    const snapshot = JSON.parse(readFileSync(join(dir, 'state/cp/snapshot.json'), 'utf8'));
    expect(snapshot.instances['counting-stage']).toEqual({ seen: 50 });
  });
});
