import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { definePlugin, s, services } from '../../../src/runtime/contracts/index.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';

/** 600 embeddings in 3 separated groups, all emitted at once (a short finite input). */
const shortInput = definePlugin({
  name: 'short-blobs',
  kind: 'source',
  description: 'A finite burst of 6-d blob embeddings.',
  configSchema: s.object({}),
  deps: { records: services.records },
  create: ({ deps }) => ({
    close() {},
    open: () =>
      from(
        Array.from({ length: 600 }, (_, i) => {
          const e = new Float32Array(6).map((_, j) => (j === i % 3 ? 4 : 0) + 0.3 * Math.sin(i * 13 + j * 7));
          return deps.records.create({ key: `s${i}`, payload: { embedding: e }, origin: { source: 'short-blobs' }, label: i % 3 });
        }),
      ),
  }),
});

/** short-blobs -> index -> k-means rounds from `firstRoundAt` -> assign(`assign`) -> jsonl; the written lines. */
async function runWaiting(firstRoundAt: number, assign: Record<string, unknown>): Promise<{ written: number; lines: Record<string, unknown>[] }> {
  const dir = await tempDir();
  const { summary } = await runForTest(
    {
      name: 'wait',
      source: { use: 'short-blobs' },
      stages: [
        { use: 'index', with: { capacity: 1000 } },
        { use: 'train', with: { trainer: 'kmeans', clusters: 3, firstRoundAt, epochs: 2, k: 5, finalRound: false } },
        { use: 'assign', with: assign },
      ],
      sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
    },
    dir,
    [shortInput],
  );
  const lines = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { written: summary.written, lines };
}

describe('assign with beforeFirstModel "wait"', () => {
  it('labels every record of an input that ends while the first round is still training', async () => {
    const { written, lines } = await runWaiting(200, { beforeFirstModel: 'wait' });
    expect(written).toBe(600);
    expect(lines.filter((l) => l.cluster === null)).toHaveLength(0);
    expect(new Set(lines.map((l) => l.modelVersion))).toEqual(new Set([1]));
  });

  it('with waitRecords, releases the held records unassigned once that many are held, and nothing is lost', async () => {
    const { written, lines } = await runWaiting(500, { beforeFirstModel: 'wait', waitRecords: 100 });
    expect(written).toBe(600);
    expect(new Set(lines.map((l) => l.key)).size).toBe(600);
    // no model exists before the train stage has seen 500 records, so those all go out unassigned
    expect(lines.slice(0, 500).every((l) => l.cluster === null && l.modelVersion === null)).toBe(true);
  });
});
