import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource } from '../support/blob-source.ts';
import { startForTest } from '../support/pipeline-harness.ts';

const blobs = blobSource('endless-blobs', Infinity);

describe('stopping while a training round runs', () => {
  it('aborts the round (previous model stays), skips the final round and exits cleanly', async () => {
    const { stop, logs, dir } = await startForTest(
      {
        name: 'stop-train',
        source: { use: 'endless-blobs' },
        stages: [
          { use: 'index', with: { capacity: 5000 } },
          // Enough epochs that the first round cannot finish before the stop.
          { use: 'train', with: { trainer: 'temi', clusters: 4, firstRoundAt: 500, epochs: 10_000, k: 5, heads: 2, options: { hidden: 32, bottleneck: 16 } } },
          { use: 'assign' },
        ],
        sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        runtime: { progress: 'off', logLevel: 'info', maxInFlight: 256 },
      },
      [blobs],
    );
    while (!logs.text.includes('"msg":"pipeline running"')) await new Promise((r) => setTimeout(r, 20));
    while ((await readFile(join(dir, 'out.jsonl'), 'utf8').catch(() => '')).split('\n').length < 1000) await new Promise((r) => setTimeout(r, 50));
    while (!logs.text.includes('"stage":"train"')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const { summary, seconds } = await stop();
    console.log(`stopped ${seconds.toFixed(1)} s after stop(); ${summary.records} records`);
    expect(summary.stopped).toBe(true);
    expect(summary.written).toBe(summary.records);
    expect(logs.text).toContain('training round rejected; previous model stays in service');
    expect(logs.text).toContain('TS_ERR_TRAIN_ABORTED');
    expect(logs.text).not.toContain('"msg":"model published"');
  });
});
