import { describe, expect, it } from 'vitest';
import { VectorIndex } from '../../src/vector-index/vector-index.ts';
import { trackedIndexes } from './support/tracked-indexes.ts';
import { gaussianRows, sequentialKeys } from './support/vectors.ts';

const dim = 16;
const { create: createIndex } = trackedIndexes();

/** Streams `total` keys (0..total-1) in batches; row i is gaussian row i. */
async function stream(index: VectorIndex, total: number, batch: number, seed = 1): Promise<bigint[]> {
  const rows = gaussianRows(total, dim, seed);
  const evicted: bigint[] = [];
  for (let first = 0; first < total; first += batch) {
    const last = Math.min(total, first + batch);
    const outcome = await index.add(sequentialKeys(last - first, BigInt(first)), rows.subarray(first * dim, last * dim));
    evicted.push(...outcome.evicted);
  }
  return evicted;
}

describe('window retention', () => {
  it('keeps exactly the newest `capacity` keys and reports the evicted ones', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 100, policy: 'window' });
    const evicted = await stream(index, 250, 30);
    expect(index.size).toBe(100);
    for (let key = 0n; key < 250n; key++) expect(index.has(key)).toBe(key >= 150n);
    expect(evicted).toEqual(Array.from({ length: 150 }, (_, i) => BigInt(i)));
    const set = await index.trainingSet(5);
    expect(Array.from(set.keys)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(150 + i)));
  });

  it('never returns an evicted key from search', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 50, policy: 'window' });
    await stream(index, 200, 25);
    const queries = gaussianRows(200, dim, 1);
    const found = await index.search(queries, 200, 10);
    for (let q = 0; q < 200; q++) {
      expect(found.counts[q]).toBe(10);
      for (let j = 0; j < 10; j++) expect(found.keys[q * 10 + j]).toBeGreaterThanOrEqual(150n);
    }
    // The newest rows still find themselves.
    for (let q = 150; q < 200; q++) expect(found.keys[q * 10]).toBe(BigInt(q));
  });

  it('a batch larger than the window keeps its last rows and says which of its keys were not kept', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 10, policy: 'window' });
    const outcome = await index.add(sequentialKeys(25), gaussianRows(25, dim, 2));
    expect(outcome.size).toBe(10);
    expect(Array.from(outcome.notKept)).toEqual(Array.from({ length: 15 }, (_, i) => BigInt(i)));
    expect(Array.from((await index.trainingSet(3)).keys)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(15 + i)));
  });

  it('re-adding a kept key replaces its vector in place without evicting anything', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 20, policy: 'window' });
    await stream(index, 20, 20);
    const replacement = gaussianRows(1, dim, 99);
    const outcome = await index.add(BigUint64Array.of(7n), replacement);
    expect(outcome).toMatchObject({ inserted: 0, updated: 1, size: 20 });
    expect(outcome.evicted.length).toBe(0);
    const found = await index.search(replacement, 1, 1);
    expect(found.keys[0]).toBe(7n);
    expect(found.distances[0]).toBeCloseTo(0, 5);
    // It kept its age: the next new key evicts key 0, not key 7.
    await index.add(BigUint64Array.of(1000n), gaussianRows(1, dim, 100));
    expect(index.has(0n)).toBe(false);
    expect(index.has(7n)).toBe(true);
  });
});

describe('reservoir retention', () => {
  it('keeps `capacity` keys sampled uniformly over the whole stream', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 200, policy: 'reservoir', seed: 5 });
    const evicted = await stream(index, 5_000, 250);
    expect(index.size).toBe(200);
    const kept = (await index.trainingSet(5)).keys;
    expect(kept.length).toBe(200);
    expect(new Set(kept).size).toBe(200);
    for (const key of kept) expect(index.has(key)).toBe(true);
    for (const key of evicted) expect(index.has(key)).toBe(false);
    // Each fifth of the stream holds ~40 of the 200 kept keys (binomial sd ~5.7); the draws are
    // seeded, so this is a fixed outcome, not a flaky one.
    const perFifth = [0, 0, 0, 0, 0];
    for (const key of kept) perFifth[Math.floor(Number(key) / 1_000)]++;
    for (const n of perFifth) expect(n).toBeGreaterThan(20);
    for (const n of perFifth) expect(n).toBeLessThan(60);
  });

  it('is reproducible: the same seed and stream keep the same keys, another seed does not', async () => {
    const keptWith = async (seed: number): Promise<bigint[]> => {
      const index = await createIndex({ dimensions: dim, capacity: 50, policy: 'reservoir', seed });
      await stream(index, 1_000, 100);
      return Array.from((await index.trainingSet(3)).keys).sort((a, b) => (a < b ? -1 : 1));
    };
    const first = await keptWith(9);
    expect(await keptWith(9)).toEqual(first);
    expect(await keptWith(10)).not.toEqual(first);
  });
});

describe('trainingSet', () => {
  it('maxRows takes a subset whose neighbours all lie inside it', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 1_000, policy: 'window' });
    await stream(index, 1_000, 500);
    const set = await index.trainingSet(8, { maxRows: 300 });
    expect(set.count).toBe(300);
    expect(set.embeddings.length).toBe(300 * dim);
    expect(set.neighbours.indices.length).toBe(300 * 8);
    for (let row = 0; row < 300; row++) {
      for (let t = 0; t < 8; t++) {
        const n = set.neighbours.indices[row * 8 + t];
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThan(300);
        expect(n).not.toBe(row);
      }
    }
    // Rows stay in stream order.
    for (let row = 1; row < 300; row++) expect(set.keys[row]).toBeGreaterThan(set.keys[row - 1]);
  });

  it('with fewer than k+1 rows, repeats the available neighbours; with one row it refuses', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 10 });
    await index.add(sequentialKeys(1), gaussianRows(1, dim, 1));
    await expect(index.trainingSet(5)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_TOO_FEW_ROWS' });
    await index.add(sequentialKeys(3, 1n), gaussianRows(3, dim, 2));
    const set = await index.trainingSet(5);
    expect(set.stats.repeatedRows).toBe(4);
    for (let row = 0; row < 4; row++) {
      const listed = new Set(set.neighbours.indices.subarray(row * 5, row * 5 + 5));
      expect(listed).toEqual(new Set([0, 1, 2, 3].filter((r) => r !== row)));
    }
  });
});
