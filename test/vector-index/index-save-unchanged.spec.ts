import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LazyVectorIndex } from '../../src/stages/vector-index/lazy-vector-index.ts';
import { tempDir } from '../support/pipeline-harness.ts';

const CONFIG = { metric: 'cos', connectivity: 16, expansionAdd: 64, expansionSearch: 32, quantization: 'f32', capacity: 1_000, policy: 'window', seed: 0 } as const;

function batch(from: number, count: number, dim: number): { keys: BigUint64Array; vectors: Float32Array } {
  const keys = BigUint64Array.from({ length: count }, (_, i) => BigInt(from + i));
  const vectors = Float32Array.from({ length: count * dim }, (_, i) => Math.sin(from * dim + i) + 1.5);
  return { keys, vectors };
}

describe('index snapshot files', () => {
  it('are not rewritten by a snapshot when nothing was added since the last one (regression: every periodic save rewrote the whole graph)', async () => {
    const dir = join(await tempDir(), 'index');
    const index = new LazyVectorIndex(CONFIG, dir);
    try {
      const first = batch(0, 300, 32);
      await index.add(first.keys, first.vectors, 32);
      await index.save();
      const files = async () => Promise.all((await readdir(dir)).sort().map(async (name) => `${name}@${(await stat(join(dir, name))).mtimeMs}`));
      const afterFirst = await files();
      await new Promise((r) => setTimeout(r, 20));
      await index.save();
      expect(await files()).toEqual(afterFirst);

      const second = batch(300, 10, 32);
      await index.add(second.keys, second.vectors, 32);
      await index.save();
      expect(await files()).not.toEqual(afterFirst);

      // A restarted index starts from the files it opened: its first snapshot need not rewrite them.
      const reopened = new LazyVectorIndex(CONFIG, dir);
      await reopened.restore(index.added);
      const beforeReopenedSave = await files();
      await reopened.save();
      expect(await files()).toEqual(beforeReopenedSave);
      expect(reopened.size).toBe(310);
      await reopened.close();
    } finally {
      await index.close();
    }
  });
});
