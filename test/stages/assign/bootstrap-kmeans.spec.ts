import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource } from '../../support/blob-source.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';

interface Line {
  key: string;
  cluster: number | null;
  modelVersion: number | null;
  label: number;
}

async function labelsOf(dir: string): Promise<Line[]> {
  return (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Line);
}

/** Share of records whose cluster is their group's most common cluster, each cluster used by one group only. */
function purity(lines: Line[]): number {
  const byCluster = new Map<number, Map<number, number>>();
  for (const l of lines) {
    const counts = byCluster.get(l.cluster!) ?? new Map<number, number>();
    counts.set(l.label, (counts.get(l.label) ?? 0) + 1);
    byCluster.set(l.cluster!, counts);
  }
  let majority = 0;
  for (const counts of byCluster.values()) majority += Math.max(...counts.values());
  return majority / lines.length;
}

function spec(count: number, bootstrapRecords: number, withTraining: boolean): Record<string, unknown> {
  return {
    name: 'bootstrap',
    source: { use: `blobs-${count}` },
    stages: [
      ...(withTraining
        ? [
            { use: 'index', with: { capacity: 5000 } },
            // selectModel off: every round publishes (on these blobs the bootstrap already scores
            // as well as any trained model, so the label-free choice would keep it in service).
            { use: 'train', with: { trainer: 'kmeans', clusters: 4, firstRoundAt: 1500, everyRecords: 100_000, epochs: 2, k: 5, selectModel: false } },
          ]
        : []),
      { use: 'assign', with: { beforeFirstModel: 'bootstrap', bootstrapRecords, bootstrapClusters: 4 } },
    ],
    sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
    runtime: { progress: 'off', maxInFlight: 1024, logLevel: 'info' },
  };
}

describe('assign with beforeFirstModel "bootstrap"', () => {
  it('labels the first records with a k-means model fitted on them, published as version 1', async () => {
    const dir = await tempDir();
    const { summary, logs } = await runForTest(spec(800, 300, false), dir, [blobSource('blobs-800', 800)]);
    expect(summary.written).toBe(800);
    const lines = await labelsOf(dir);
    expect(lines.every((l) => l.cluster !== null && l.modelVersion === 1)).toBe(true);
    expect(new Set(lines.map((l) => l.cluster)).size).toBe(4);
    expect(purity(lines)).toBeGreaterThan(0.95);
    expect(logs).toContain('"msg":"bootstrap k-means model published"');
  });

  it('fits on what was held when the input ends before bootstrapRecords', async () => {
    const dir = await tempDir();
    const { summary } = await runForTest(spec(120, 1000, false), dir, [blobSource('blobs-120', 120)]);
    expect(summary.written).toBe(120);
    const lines = await labelsOf(dir);
    expect(lines.every((l) => l.modelVersion === 1 && l.cluster !== null)).toBe(true);
  });

  it('hands over to the first trained model, which keeps the bootstrap\'s cluster ids', async () => {
    const dir = await tempDir();
    const { summary } = await runForTest(spec(3000, 300, true), dir, [blobSource('blobs-3000', 3000)]);
    expect(summary.written).toBe(3000);
    const lines = await labelsOf(dir);
    expect(lines.slice(0, 300).every((l) => l.modelVersion === 1)).toBe(true);
    const trained = lines.filter((l) => (l.modelVersion ?? 0) >= 2);
    expect(trained.length).toBeGreaterThan(0);
    // the same group gets the same id from the bootstrap and from the trained model
    const idOf = (version: (v: number) => boolean) => {
      const ids = new Map<number, number>();
      for (const l of lines) if (version(l.modelVersion!)) ids.set(l.label, l.cluster!);
      return ids;
    };
    expect(idOf((v) => v >= 2)).toEqual(idOf((v) => v === 1));
  });
});
