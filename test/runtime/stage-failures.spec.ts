import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definePlugin, s, services, TemiError } from '../../src/runtime/contracts/index.ts';
import { perRecord } from '../../src/runtime/operators/index.ts';
import { runForTest, tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

const rejectEveryTenth = definePlugin({
  name: 'reject-every-tenth',
  kind: 'stage',
  description: 'Throws on records whose index is a multiple of ten.',
  configSchema: s.object({}),
  deps: { deadLetters: services.deadLetters },
  create: ({ deps, instanceName }) => ({
    operator: perRecord({ stage: instanceName, deadLetters: deps.deadLetters }, (record) => {
      if (Number(record.key.split('-')[1]) % 10 === 0) throw new TemiError('TEST_ERR_TENTH', 'multiple of ten', { where: record.key });
      return record;
    }),
  }),
});

const failsToStart = definePlugin({
  name: 'fails-to-start',
  kind: 'stage',
  description: 'Cannot reach its model server.',
  configSchema: s.object({}),
  deps: {},
  create: () => ({
    operator: (x) => x,
    start() {
      throw new Error('connection refused to model server at 127.0.0.1:1');
    },
  }),
});

describe('stage failures', () => {
  it('dead-letters the one record a stage throws on, with stage, reason and original metadata, and keeps going', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 100);
    const { summary } = await runForTest(
      { name: 'dl', source: { use: 'replay', with: { path: 'in.jsonl' } }, stages: [{ use: 'reject-every-tenth', id: 'picky' }], sink: { use: 'jsonl', with: { path: 'out.jsonl' } } },
      dir,
      [rejectEveryTenth],
    );
    expect(summary).toMatchObject({ records: 100, written: 90, deadLettered: 10 });
    const letters = (await readFile(join(dir, 'state/dl/dead-letters.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(letters).toHaveLength(10);
    expect(letters[1]).toMatchObject({ key: 'rec-10', stage: 'picky', code: 'TEST_ERR_TENTH', reason: 'rec-10: multiple of ten', label: 0 });
    expect(letters[1].origin).toMatchObject({ source: 'replay', position: 11 });
  });

  it('fails the run with the plugin name and reason when a stage cannot start', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 3);
    await expect(
      runForTest({ name: 'nostart', source: { use: 'replay', with: { path: 'in.jsonl' } }, stages: [{ use: 'fails-to-start' }], sink: { use: 'jsonl', with: { path: 'out.jsonl' } } }, dir, [failsToStart]),
    ).rejects.toThrow('TS_ERR_STAGE_START_FAILED: $.stages[0]: plugin "fails-to-start" (fails-to-start) failed to start: connection refused to model server at 127.0.0.1:1');
  });

  it('fails with a coded error when a plugin needs a service nobody provides', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 1);
    // A service no registered plugin declares it provides: validate cannot know, the run must say so.
    // (A known one, such as the index's vectorIndex, is refused by validate: TS_ERR_PIPELINE_MISSING_SERVICE.)
    const needsIndex = definePlugin({
      name: 'needs-index',
      kind: 'stage',
      description: 'Depends on a service no stage provides.',
      configSchema: s.object({}),
      deps: { index: { id: Symbol.for('temi-stream.service.nearestNeighbours'), description: 'nearestNeighbours' } },
      create: () => ({ operator: (x) => x }),
    });
    await expect(runForTest({ name: 'nosvc', source: { use: 'replay', with: { path: 'in.jsonl' } }, stages: [{ use: 'needs-index' }], sink: { use: 'jsonl', with: { path: 'o.jsonl' } } }, dir, [needsIndex])).rejects.toThrow(
      /TS_ERR_PLUGIN_MISSING_SERVICE: \$\.stages\[0\]: plugin "needs-index" needs the service "nearestNeighbours"/,
    );
  });
});
