import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runForTest, tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

async function runWithStateDir(dir: string, stateDir: string) {
  await writeEnvelopes(join(dir, 'in.jsonl'), 3);
  return runForTest({ name: 'state-file', source: { use: 'replay', with: { path: 'in.jsonl' } }, sink: { use: 'jsonl', with: { path: 'out.jsonl' } }, state: { dir: stateDir } }, dir);
}

describe('state.dir that is not a folder', () => {
  it('regression: state.dir pointing at a file is a coded error at $.state.dir, not a bare ENOTDIR/EEXIST', async () => {
    const dir = await tempDir('temi-state-file-');
    await writeFile(join(dir, 'state.txt'), 'a file, not a folder');
    await expect(runWithStateDir(dir, 'state.txt')).rejects.toMatchObject({ code: 'TS_ERR_STATE_DIR_NOT_A_FOLDER', where: '$.state.dir', message: expect.stringContaining(join(dir, 'state.txt')) });
  });

  it('a state.dir below a file is the same error', async () => {
    const dir = await tempDir('temi-state-below-');
    await writeFile(join(dir, 'state.txt'), 'a file, not a folder');
    await expect(runWithStateDir(dir, 'state.txt/inner')).rejects.toMatchObject({ code: 'TS_ERR_STATE_DIR_NOT_A_FOLDER', where: '$.state.dir' });
  });
});
