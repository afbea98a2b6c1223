import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runForTest, tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

const PREVIOUS = '{"id":"1","key":"from-the-previous-run","cluster":3}\n';

describe('a run that fails before it has output', () => {
  it('regression: a source that fails to start (IDX path missing) leaves the previous labels file as it was', async () => {
    const dir = await tempDir('temi-keep-labels-');
    const labels = join(dir, 'labels.jsonl');
    await writeFile(labels, PREVIOUS);
    await expect(
      runForTest(
        {
          name: 'keeps-labels',
          source: { use: 'files', with: { idx: { images: 'missing-idx3-ubyte.gz' } } },
          stages: [{ use: 'decode', with: { preset: 'mnist' } }],
          sink: { use: 'jsonl', with: { path: 'labels.jsonl' } },
          state: { dir: 'state' },
        },
        dir,
      ),
    ).rejects.toThrow(/TS_ERR_STAGE_START_FAILED/);
    expect(await readFile(labels, 'utf8')).toBe(PREVIOUS);
  });

  it('a run that completes replaces the file, also when it wrote no line', async () => {
    const dir = await tempDir('temi-replace-labels-');
    const labels = join(dir, 'labels.jsonl');
    await writeFile(labels, PREVIOUS);
    await writeEnvelopes(join(dir, 'in.jsonl'), 3, { prefix: 'now-' });
    await runForTest({ name: 'replaces', source: { use: 'replay', with: { path: 'in.jsonl' } }, sink: { use: 'jsonl', with: { path: 'labels.jsonl' } }, state: { dir: 'state' } }, dir);
    expect((await readFile(labels, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).key)).toEqual(['now-0', 'now-1', 'now-2']);

    await writeFile(join(dir, 'empty.jsonl'), '');
    await runForTest({ name: 'replaces', source: { use: 'replay', with: { path: 'empty.jsonl' } }, sink: { use: 'jsonl', with: { path: 'labels.jsonl' } }, state: { dir: 'state' } }, dir);
    expect(await readFile(labels, 'utf8')).toBe('');
  });
});
