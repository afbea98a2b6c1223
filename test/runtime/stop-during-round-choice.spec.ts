import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource } from '../support/blob-source.ts';
import { startForTest } from '../support/pipeline-harness.ts';

const blobs = blobSource('endless-blobs', Infinity);
const lines = async (file: string): Promise<number> => (await readFile(file, 'utf8').catch(() => '')).split('\n').length - 1;

// Regression: the round's label-free choice (window clustering, seconds on a window of thousands
// of rows) ran to its end on the pipeline's thread whatever happened, so a SIGTERM during it
// waited past runtime.drainTimeoutMs and a second signal went unheard.
describe.each(['worker', 'main'] as const)('stopping while a round makes its choice (thread: %s)', (thread) => {
  it('aborts the choice (the round is discarded, the previous model stays) and exits cleanly', async () => {
    const { stop, logs, dir } = await startForTest(
      {
        name: 'stop-choice',
        source: { use: 'endless-blobs' },
        stages: [
          { use: 'index', with: { capacity: 8000 } },
          { use: 'train', with: { trainer: 'kmeans', clusters: 4, firstRoundAt: 6000, everyRecords: 100_000, epochs: 1, k: 10, thread } },
          { use: 'assign', with: { beforeFirstModel: 'bootstrap', bootstrapRecords: 500 } },
        ],
        sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        runtime: { progress: 'off', logLevel: 'debug', maxInFlight: 1024 },
      },
      [blobs],
    );
    while (!logs.text.includes('the label-free choice runs')) await new Promise((r) => setTimeout(r, 20));
    const writtenAtChoice = await lines(join(dir, 'out.jsonl'));
    await new Promise((r) => setTimeout(r, 400));
    const writtenDuringChoice = (await lines(join(dir, 'out.jsonl'))) - writtenAtChoice;
    const { summary, seconds } = await stop();
    console.log(`thread ${thread}: ${writtenDuringChoice} records written in the choice's first 400 ms; stopped ${seconds.toFixed(2)} s after stop(); ${summary.records} records`);
    expect(summary.stopped).toBe(true);
    expect(summary.written).toBe(summary.records);
    expect(logs.text).toContain('training round rejected; previous model stays in service');
    expect(logs.text).toContain('TS_ERR_ROUND_CHOICE_ABORTED');
    expect(logs.text).not.toContain('round candidates scored');
    expect(logs.text).not.toContain('"msg":"training round done');
  });
});
