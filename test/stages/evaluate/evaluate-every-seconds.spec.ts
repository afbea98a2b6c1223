/**
 * evaluate's everySeconds: a stream that pauses still gets evaluations (the record-count trigger
 * alone would wait for the 1,000th record, or the end).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { definePlugin, s, services } from '../../../src/runtime/contracts/index.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';

/** 50 labelled records, then nothing until the evaluation file has a line, then 50 more. */
function pausingSource(reportFile: string) {
  return definePlugin({
    name: 'pausing',
    kind: 'source',
    description: 'Two bursts of 8-d records with a pause between them.',
    configSchema: s.object({}),
    deps: { records: services.records },
    create: ({ deps }) => ({
      close() {},
      open: (flow) =>
        new Observable((subscriber) => {
          void (async () => {
            for (let i = 0; i < 100; i++) {
              if (i === 50) while (!(existsSync(reportFile) && readFileSync(reportFile, 'utf8').trim())) await new Promise((r) => setTimeout(r, 20));
              await flow.whenReady();
              subscriber.next(deps.records.create({ key: `p${i}`, payload: { embedding: new Float32Array(8).map((_, j) => (j === i % 2 ? 1 : 0) + j * 0.01 + i * 1e-4) }, origin: { source: 'pausing' }, label: i % 2 }));
            }
            subscriber.complete();
          })();
        }),
    }),
  });
}

describe('evaluate everySeconds', () => {
  it('evaluates on the timer while the stream pauses', async () => {
    const dir = await tempDir();
    const reportFile = join(dir, 'state', 'evaluation.jsonl');
    const spec = {
      name: 'timer',
      source: { use: 'pausing' },
      stages: [
        { use: 'index', with: { capacity: 1000 } },
        { use: 'assign', with: { beforeFirstModel: 'unassigned' } },
        { use: 'evaluate', with: { everySeconds: 0.05, neighbours: 0, print: false } },
      ],
      sink: { use: 'jsonl', with: { path: 'out.jsonl', fsync: false } },
      state: { dir: 'state' },
    };
    const { summary } = await runForTest(spec, dir, [pausingSource(reportFile)]);
    expect(summary.written).toBe(100);
    const points = (await readFile(reportFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { records: number });
    expect(points[0].records).toBe(50);
    expect(points.at(-1)!.records).toBe(100);
  });
});
