import { describe, expect, it } from 'vitest';
import { blobs, BLOB_DIM } from '../../../test/support/blob-window.ts';
import { clusterWindow } from '../../clustering/window/window-clustering.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { NoveltyMonitor } from './novelty-monitor.ts';
import { roundDue } from './training-schedule.ts';

describe('NoveltyMonitor', () => {
  const window = blobs(300, 8);
  const clustered = clusterWindow(window, { clusters: 3, seed: 0, dims: [3] });

  it('stays quiet while records come from the clusters it knows, and surges when a new one arrives', async () => {
    const monitor = new NoveltyMonitor({ records: 100, share: 0.25 });
    monitor.arm((await clustered).model, window);
    const familiar = blobs(300, 8);
    for (let i = 0; i < 100; i++) monitor.observe(familiar.embeddings.subarray(i * BLOB_DIM, (i + 1) * BLOB_DIM));
    expect(monitor.unfamiliarShare).toBeLessThan(0.15);
    expect(monitor.surging).toBe(false);

    const random = new SeededRandom(99);
    const elsewhere = Array.from({ length: BLOB_DIM }, () => random.normal() * 3);
    for (let i = 0; i < 100; i++) monitor.observe(Float32Array.from(elsewhere, (x) => x + random.normal()));
    expect(monitor.surging).toBe(true);
  });

  it('says nothing before it is armed or before a full window of records', async () => {
    const monitor = new NoveltyMonitor({ records: 50, share: 0.25 });
    monitor.observe(window.embeddings.subarray(0, BLOB_DIM));
    expect(monitor.unfamiliarShare).toBe(0);
    monitor.arm((await clustered).model, window);
    for (let i = 0; i < 49; i++) monitor.observe(new Float32Array(BLOB_DIM).fill(-5));
    expect(monitor.surging).toBe(false);
  });
});

describe('roundDue with drift', () => {
  const settings = { firstRoundAt: 100, everyRecords: 1000, driftRecords: 50 };
  const state = { seen: 1060, seenAtLastRound: 1000, rounds: 1, lastRoundAtMs: 0 };
  it('brings a round forward once driftRecords new records fit no cluster, not before', () => {
    expect(roundDue(settings, state, 0)).toBe(false);
    expect(roundDue(settings, state, 0, true)).toBe(true);
    expect(roundDue(settings, { ...state, seen: 1040 }, 0, true)).toBe(false);
  });
});
