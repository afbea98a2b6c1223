import { afterEach } from 'vitest';
import { VectorIndex } from '../../../src/vector-index/vector-index.ts';

/** Indexes created (or tracked) through this are closed after each test of the calling spec file, workers included. */
export function trackedIndexes() {
  const open: VectorIndex[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((index) => index.close()));
  });
  const track = (index: VectorIndex): VectorIndex => {
    open.push(index);
    return index;
  };
  return { track, create: async (config: Parameters<typeof VectorIndex.create>[0]) => track(await VectorIndex.create(config)) };
}
