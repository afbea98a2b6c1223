import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { VectorIndex } from '../../src/vector-index/vector-index.ts';
import { checkRecordVector } from '../../src/vector-index/vector-checks.ts';
import { trackedIndexes } from './support/tracked-indexes.ts';
import { gaussianRows, sequentialKeys } from './support/vectors.ts';

const { create: createIndex, track } = trackedIndexes();
const scratch = mkdtempSync(join(tmpdir(), 'temi-index-spec-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('VectorIndex off the event loop', () => {
  it('keeps timers firing while a large batch is indexed and mined', async () => {
    const dim = 128;
    const count = 10_000;
    const index = await createIndex({ dimensions: dim, capacity: count });
    const rows = gaussianRows(count, dim, 3);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await index.add(sequentialKeys(count), rows);
      const duringAdd = ticks;
      await index.trainingSet(10);
      const duringMining = ticks - duringAdd;
      // Run on this thread, usearch would block it for the whole call and no tick could fire.
      expect(duringAdd).toBeGreaterThanOrEqual(3);
      expect(duringMining).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(timer);
    }
    expect(index.size).toBe(count);
  });

  it('with transfer: true moves the caller\'s vectors instead of copying them', async () => {
    const index = await createIndex({ dimensions: 4, capacity: 10 });
    const vectors = Float32Array.of(1, 2, 3, 4, 4, 3, 2, 1);
    const keys = BigUint64Array.of(1n, 2n);
    await index.add(keys, vectors, { transfer: true });
    expect(vectors.length).toBe(0);
    expect(keys.length).toBe(2);
    expect(index.size).toBe(2);
    const kept = Float32Array.of(1, 1, 1, 1);
    await index.add(BigUint64Array.of(3n), kept);
    expect(kept.length).toBe(4);
  });

  it('starts under plain `node --import tsx` as well as under vitest', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/vector-index/support/standalone-index.ts'], {
      cwd: process.cwd(),
    });
    expect(JSON.parse(stdout.trim())).toEqual({ size: 50, nearest: '13' });
  });

  it('refuses calls after close', async () => {
    const index = await VectorIndex.create({ dimensions: 4, capacity: 4 });
    await index.close();
    await expect(index.search(new Float32Array(4).fill(1), 1, 1)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_CLOSED' });
  });

  it('refuses a bad configuration before starting anything', async () => {
    await expect(VectorIndex.create({ dimensions: 0, capacity: 10 })).rejects.toMatchObject({ code: 'TS_ERR_INDEX_BAD_CONFIG', where: 'index.dimensions' });
    await expect(VectorIndex.create({ dimensions: 8, capacity: 10, metric: 'hamming' as never })).rejects.toMatchObject({ code: 'TS_ERR_INDEX_BAD_CONFIG' });
  });
});

describe('bad vectors', () => {
  const dim = 8;

  it('refuses a batch holding NaN or Infinity, naming every bad key, and adds nothing', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 100 });
    const rows = gaussianRows(5, dim, 1);
    rows[1 * dim + 2] = Number.NaN;
    rows[3 * dim] = Number.POSITIVE_INFINITY;
    const error = await index.add(sequentialKeys(5, 500n), rows).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TemiError', code: 'TS_ERR_INDEX_BAD_VECTOR', where: 'key 501', details: { keys: ['501', '503'] } });
    expect((error as Error).message).toContain('key 501: component 2 is NaN');
    expect((error as Error).message).toContain('key 503: component 0 is Infinity');
    expect(index.size).toBe(0);
    // The caller dead-letters 501 and 503 and retries the rest.
    const good = BigUint64Array.of(500n, 502n, 504n);
    const goodRows = new Float32Array(3 * dim);
    [0, 2, 4].forEach((row, i) => goodRows.set(rows.subarray(row * dim, (row + 1) * dim), i * dim));
    await index.add(good, goodRows);
    expect(index.size).toBe(3);
  });

  it('refuses an all-zero vector under cosine and a batch of the wrong shape', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 100 });
    await expect(index.add(BigUint64Array.of(9n), new Float32Array(dim))).rejects.toMatchObject({ code: 'TS_ERR_INDEX_BAD_VECTOR', where: 'key 9' });
    await expect(index.add(BigUint64Array.of(9n), new Float32Array(dim - 1).fill(1))).rejects.toThrow(/key 9/);
    await expect(index.add([9n] as never, new Float32Array(dim).fill(1))).rejects.toMatchObject({ code: 'TS_ERR_INDEX_BAD_VECTOR' });
    const l2 = await createIndex({ dimensions: dim, capacity: 100, metric: 'l2sq' });
    await l2.add(BigUint64Array.of(9n), new Float32Array(dim));
    expect(l2.has(9n)).toBe(true);
  });

  it('checkRecordVector blames a single record by key before batching', () => {
    expect(() => checkRecordVector(77n, new Float32Array(3), 4)).toThrow(/TS_ERR_INDEX_BAD_VECTOR: key 77: vector for key 77 has 3 components, expected 4/);
    expect(() => checkRecordVector(78n, Float32Array.of(1, Number.NaN, 0, 0), 4)).toThrow(/key 78.*component 1 is NaN/);
    expect(() => checkRecordVector(79n, Float32Array.of(1, 0, 0, 0), 4)).not.toThrow();
  });

  it('refuses NaN queries', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 10 });
    await expect(index.search(new Float32Array(dim).fill(Number.NaN), 1, 1)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_BAD_VECTOR', where: 'query 0' });
  });
});

describe('save and load', () => {
  const dim = 24;

  it('round-trips: the reloaded index answers searches exactly as the saved one', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 3_000, policy: 'window' });
    const rows = gaussianRows(4_000, dim, 21);
    for (let first = 0; first < 4_000; first += 1_000) {
      await index.add(sequentialKeys(1_000, BigInt(first)), rows.subarray(first * dim, (first + 1_000) * dim));
    }
    const dir = join(scratch, 'round-trip');
    await index.save(dir);
    const queries = gaussianRows(300, dim, 22);
    const before = await index.search(queries, 300, 10);

    const reopened = await VectorIndex.open(dir);
    track(reopened);
    expect(reopened.size).toBe(3_000);
    expect(reopened.has(999n)).toBe(false);
    expect(reopened.has(1_000n)).toBe(true);
    const after = await reopened.search(queries, 300, 10);
    expect(Array.from(after.keys)).toEqual(Array.from(before.keys));
    expect(Array.from(after.distances)).toEqual(Array.from(before.distances));

    const loaded = await createIndex({ dimensions: dim, capacity: 3_000, policy: 'window' });
    await loaded.load(dir);
    expect(loaded.size).toBe(3_000);
    expect(Array.from((await loaded.search(queries, 300, 10)).keys)).toEqual(Array.from(before.keys));
    const a = await index.trainingSet(5);
    const b = await loaded.trainingSet(5);
    expect(Array.from(b.keys)).toEqual(Array.from(a.keys));
    expect(Buffer.from(b.embeddings.buffer).equals(Buffer.from(a.embeddings.buffer))).toBe(true);
  });

  it('resumes retention where it stopped: a reloaded reservoir keeps what an uninterrupted one keeps', async () => {
    const config = { dimensions: dim, capacity: 100, policy: 'reservoir' as const, seed: 3 };
    const rows = gaussianRows(2_000, dim, 23);
    const batch = (first: number) => [sequentialKeys(250, BigInt(first)), rows.subarray(first * dim, (first + 250) * dim)] as const;
    const uninterrupted = await createIndex(config);
    const interrupted = await createIndex(config);
    for (let first = 0; first < 1_000; first += 250) {
      await uninterrupted.add(...batch(first));
      await interrupted.add(...batch(first));
    }
    const dir = join(scratch, 'reservoir');
    await interrupted.save(dir);
    await interrupted.close();
    const resumed = await VectorIndex.open(dir);
    track(resumed);
    for (let first = 1_000; first < 2_000; first += 250) {
      await uninterrupted.add(...batch(first));
      await resumed.add(...batch(first));
    }
    expect(Array.from((await resumed.trainingSet(3)).keys)).toEqual(Array.from((await uninterrupted.trainingSet(3)).keys));
  });

  it('leaves one graph file and the sidecar after repeated saves, and no temp files', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 100 });
    const dir = join(scratch, 'repeated');
    await index.add(sequentialKeys(50), gaussianRows(50, dim, 1));
    await index.save(dir);
    await index.add(sequentialKeys(50, 50n), gaussianRows(50, dim, 2));
    await index.save(dir);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^graph-.*\.usearch$/);
    expect(files[1]).toBe('index.sidecar');
    const reopened = await VectorIndex.open(dir);
    track(reopened);
    expect(reopened.size).toBe(100);
  });

  it('reports a corrupt sidecar, a missing index and a mismatched configuration with coded errors', async () => {
    const index = await createIndex({ dimensions: dim, capacity: 100 });
    await index.add(sequentialKeys(20), gaussianRows(20, dim, 1));
    const dir = join(scratch, 'corrupt');
    await index.save(dir);

    const other = await createIndex({ dimensions: dim + 1, capacity: 100 });
    await expect(other.load(dir)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_CONFIG_MISMATCH', where: `${dir} (index.dimensions)` });
    const reservoir = await createIndex({ dimensions: dim, capacity: 100, policy: 'reservoir' });
    await expect(reservoir.load(dir)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_CONFIG_MISMATCH' });

    await expect(VectorIndex.open(join(scratch, 'nothing-here'))).rejects.toMatchObject({ code: 'TS_ERR_INDEX_LOAD_FAILED' });

    const graphFile = readdirSync(dir).find((name) => name.endsWith('.usearch'))!;
    const graphBytes = readFileSync(join(dir, graphFile));
    rmSync(join(dir, graphFile));
    await expect(VectorIndex.open(dir)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_LOAD_FAILED', where: join(dir, graphFile) });
    writeFileSync(join(dir, graphFile), graphBytes);

    const sidecar = join(dir, 'index.sidecar');
    const bytes = readFileSync(sidecar);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(sidecar, bytes);
    await expect(index.load(dir)).rejects.toMatchObject({ code: 'TS_ERR_INDEX_LOAD_FAILED', message: expect.stringContaining('checksum') });
    // A failed load leaves the index as it was.
    expect(index.size).toBe(20);
    expect((await index.search(gaussianRows(1, dim, 1), 1, 1)).keys[0]).toBe(0n);
  });
});
