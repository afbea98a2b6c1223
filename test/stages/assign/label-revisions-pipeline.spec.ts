/**
 * Label revisions through the real runtime: blobs -> index -> train (k-means) -> assign ->
 * evaluate -> jsonl. Records labelled before a model exists, or by an older model, get revised
 * lines in the labels file; the train stage's final round runs before the stream ends, and
 * assign's final pass leaves every record's latest label on the final model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deserializeClusterModel } from '../../../src/clustering/model-codec.ts';
import { readLatestLabels } from '../../../src/report/index.ts';
import { blobSource } from '../../support/blob-source.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';

interface Line {
  id: string;
  key: string;
  cluster: number | null;
  modelVersion: number | null;
  label: number;
  revision?: boolean;
  previousCluster?: number | null;
  previousModelVersion?: number | null;
  embedding: number[];
}

const COUNT = 3000;

function spec(assign: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'revisions',
    source: { use: `blobs-${COUNT}` },
    stages: [
      { use: 'index', with: { capacity: 5000 } },
      { use: 'train', with: { trainer: 'kmeans', clusters: 4, firstRoundAt: 600, everyRecords: 1000, epochs: 2, k: 5 } },
      { use: 'assign', with: { beforeFirstModel: 'unassigned', ...assign } },
      { use: 'evaluate', with: { neighbours: 0, print: false } },
    ],
    sink: { use: 'jsonl', with: { path: 'out.jsonl', includeEmbedding: true, fsync: false } },
    state: { dir: 'state' },
    runtime: { progress: 'off', maxInFlight: 2048, logLevel: 'info' },
  };
}

async function linesOf(file: string): Promise<Line[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Line);
}

describe('label revisions in a running pipeline', () => {
  it('appends revised lines to the jsonl sink, and the final pass leaves every latest label on the final model', async () => {
    const dir = await tempDir();
    const { summary, logs } = await runForTest(spec({}), dir, [blobSource(`blobs-${COUNT}`, COUNT)]);
    const lines = await linesOf(join(dir, 'out.jsonl'));
    const firsts = lines.filter((l) => !l.revision);
    const revisions = lines.filter((l) => l.revision);
    expect(summary).toMatchObject({ records: COUNT, written: COUNT, revised: revisions.length });
    expect(firsts).toHaveLength(COUNT);
    expect(new Set(firsts.map((l) => l.key)).size).toBe(COUNT);

    // Records emitted before the first model (cluster null) are among the revised ones.
    const unassigned = firsts.filter((l) => l.cluster === null);
    expect(unassigned.length).toBeGreaterThanOrEqual(500);
    const revisedKeys = new Set(revisions.map((l) => l.key));
    expect(unassigned.every((l) => revisedKeys.has(l.key))).toBe(true);

    // Each line for an id: a higher version than the one before, which the revision names.
    const last = new Map<string, Line>();
    for (const l of lines) {
      const before = last.get(l.id);
      if (before) {
        expect(l.revision).toBe(true);
        expect(l.key).toBe(before.key);
        expect(l.modelVersion!).toBeGreaterThan(before.modelVersion ?? 0);
        expect([l.previousCluster, l.previousModelVersion]).toEqual([before.cluster, before.modelVersion]);
      }
      last.set(l.id, l);
    }

    // The final model (the train stage's final round, published before the stream ended)
    // assigns every record the cluster its latest line holds.
    const stored = JSON.parse(await readFile(join(dir, 'state', 'models', 'latest.json'), 'utf8')) as { version: number; model: never };
    const finalModel = deserializeClusterModel(stored.model, 'latest.json');
    const latest: Line[] = [];
    for await (const { line } of readLatestLabels<Line>(join(dir, 'out.jsonl'))) latest.push(line);
    expect(latest).toHaveLength(COUNT);
    const assigned = finalModel.assign(Float32Array.from(latest.flatMap((l) => l.embedding)), latest.length).cluster;
    expect(latest.map((l) => l.cluster)).toEqual(Array.from(assigned));
    expect(logs).toMatch(new RegExp(`"version":${stored.version},[^\\n]*"msg":"final label revision pass"`));
    expect(logs.indexOf('"msg":"final label revision pass"')).toBeGreaterThan(logs.lastIndexOf('"msg":"training round done'));

    // evaluate scored both, and the run's last log line carries them.
    const final = JSON.parse(await readFile(join(dir, 'state', 'evaluation-final.json'), 'utf8')) as { firstEmitted: { cumulative?: { n: number; acc: number } }; delivered: { cumulative: { n: number; acc: number } }; revised: number };
    expect(final.revised).toBe(revisions.length);
    // (On a loaded machine the first round may end after the last record: no first label assigned.)
    expect(final.firstEmitted.cumulative?.n ?? 0).toBe(COUNT - unassigned.length);
    expect(final.delivered.cumulative.n).toBe(COUNT);
    expect(final.delivered.cumulative.acc).toBeGreaterThan(0.95);
    const lastLine = JSON.parse(logs.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(lastLine).toMatchObject({ msg: 'pipeline finished', revised: revisions.length, firstEmitted: final.firstEmitted.cumulative ?? null, delivered: final.delivered.cumulative });
  });

  it('with live revisions off, the final pass alone revises, with the final model', async () => {
    const dir = await tempDir();
    const { summary } = await runForTest(spec({ revisions: { enabled: false } }), dir, [blobSource(`blobs-${COUNT}`, COUNT)]);
    const lines = await linesOf(join(dir, 'out.jsonl'));
    const stored = JSON.parse(await readFile(join(dir, 'state', 'models', 'latest.json'), 'utf8')) as { version: number };
    const revisions = lines.filter((l) => l.revision);
    expect(summary).toMatchObject({ written: COUNT, revised: revisions.length });
    expect(revisions.length).toBeGreaterThanOrEqual(500);
    expect(revisions.every((l) => l.modelVersion === stored.version)).toBe(true);
    // All after the last first label: nothing was revised while records streamed.
    expect(lines.slice(0, COUNT).every((l) => !l.revision)).toBe(true);
  });

  it('with revisions and the final pass off, writes each record once', async () => {
    const dir = await tempDir();
    const { summary } = await runForTest(spec({ revisions: { enabled: false, finalPass: false } }), dir, [blobSource(`blobs-${COUNT}`, COUNT)]);
    const lines = await linesOf(join(dir, 'out.jsonl'));
    expect(summary).toMatchObject({ written: COUNT, revised: 0 });
    expect(lines).toHaveLength(COUNT);
    expect(lines.some((l) => l.revision)).toBe(false);
  });
});
