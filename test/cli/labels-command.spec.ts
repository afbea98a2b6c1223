import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { TextSink, tempDir } from '../support/pipeline-harness.ts';

async function cli(args: string[]) {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await main(args, { stdout, stderr, env: { PATH: process.env.PATH } });
  return { code, out: stdout.text, err: stderr.text };
}

/** A labels file as the jsonl sink appends it: first labels, then revised lines for some ids. */
async function labelsFile(): Promise<string> {
  const lines = [
    { id: '1', key: 'a', cluster: null, modelVersion: null },
    { id: '2', key: 'b', cluster: 0, modelVersion: 1 },
    { id: '3', key: 'c', cluster: 1, modelVersion: 1 },
    { id: '1', key: 'a', cluster: 2, modelVersion: 1, revision: true, previousCluster: null, previousModelVersion: null },
    { id: '2', key: 'b', cluster: 1, modelVersion: 2, revision: true, previousCluster: 0, previousModelVersion: 1 },
    '{"id": "3", "key": "c", "clus',
    { id: '3', key: 'c', cluster: 1, modelVersion: 1 }, // re-read after a restart: same version, the later line wins
  ];
  const file = join(await tempDir('temi-labels-'), 'labels.jsonl');
  await writeFile(file, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return file;
}

describe('temi-stream labels', () => {
  it('--latest prints the latest label per record, one line each, in file order', async () => {
    const r = await cli(['labels', await labelsFile(), '--latest']);
    expect(r.code, r.err).toBe(0);
    const latest = r.out.trim().split('\n').map((l) => JSON.parse(l) as { key: string; cluster: number; modelVersion: number });
    expect(latest.map((l) => [l.key, l.cluster, l.modelVersion])).toEqual([
      ['a', 2, 1],
      ['b', 1, 2],
      ['c', 1, 1],
    ]);
  });

  it('without --latest, counts lines, revisions and records', async () => {
    const file = await labelsFile();
    const r = await cli(['labels', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`${file}: 6 lines, 2 revisions, 3 records\n`);
  });

  it('a missing file exits 1 with a coded error naming it; no file exits 2 with help', async () => {
    const r = await cli(['labels', '/nonexistent/labels.jsonl', '--latest']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('TS_ERR_LABELS_NO_FILE: /nonexistent/labels.jsonl');
    const usage = await cli(['labels']);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('Usage: temi-stream labels');
  });
});
