import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStateStore } from './file-state-store.ts';

describe('FileStateStore', () => {
  it('takes several writes of one file at once (a round ending as the stream ends): the last one stays, no temp file is left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'temi-state-'));
    const store = new FileStateStore(dir);
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.writeJson('summary.json', { i })));
    expect(await store.readJson<{ i: number }>('summary.json')).toHaveProperty('i');
    expect(await readdir(dir)).toEqual(['summary.json']);
  });
});
