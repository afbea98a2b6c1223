import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource } from '../../support/blob-source.ts';
import { startForTest, type StartedForTest } from '../../support/pipeline-harness.ts';

/**
 * Endless 32-d embeddings in 10 noisy groups (the bootstrap's window clustering takes seconds on a
 * few thousand); `paced`: 10 records per millisecond at most.
 */
const endless = (paced: boolean) => blobSource(paced ? 'paced-32d' : 'endless-32d', Infinity, { dim: 32, groups: 10, noisy: true, perMillisecond: paced ? 10 : undefined });

function start(bootstrapRecords: number, paced = false): Promise<StartedForTest> {
  return startForTest(
    {
      name: 'stop-bootstrap',
      source: { use: paced ? 'paced-32d' : 'endless-32d' },
      stages: [{ use: 'assign', with: { beforeFirstModel: 'bootstrap', bootstrapRecords, bootstrapClusters: 10 } }],
      sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
      runtime: { progress: 'off', logLevel: 'debug', maxInFlight: bootstrapRecords + 500 },
    },
    [endless(paced)],
  );
}

async function linesOf(dir: string): Promise<{ key: string; cluster: number | null }[]> {
  return (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; cluster: number | null });
}

// Regression: the bootstrap's choice (k-means vs the window clustering on the held records,
// seconds on a few thousand) ran to its end whatever happened: a SIGTERM during it waited for the
// whole choice (and published a model after the stop was asked for).
describe('stopping while assign bootstraps its first model', () => {
  it('aborts the choice at once; every held record is still written (unassigned), none twice', async () => {
    const { stop, logs, dir } = await start(3000);
    while (!logs.text.includes('bootstrap k-means: choosing between')) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const { summary, seconds: stopSeconds } = await stop();
    console.log(`stop during the bootstrap's choice: ended ${stopSeconds.toFixed(2)} s after stop(); ${summary.records} records`);
    expect(summary.stopped).toBe(true);
    expect(logs.text).toContain('bootstrap k-means aborted by the stop');
    expect(logs.text).not.toContain('bootstrap k-means model published');
    // Nothing lost: every record read was written and acknowledged, unassigned (no model exists).
    const lines = await linesOf(dir);
    expect(summary.records).toBeGreaterThanOrEqual(3000);
    expect(summary.written).toBe(summary.records);
    expect(new Set(lines.map((l) => l.key)).size).toBe(summary.records);
    expect(lines.every((l) => l.cluster === null)).toBe(true);
    // The choice alone takes seconds here (a stop 0.3 s into it ended 4.1 s later before the fix); the stop waits for none of it.
    expect(stopSeconds).toBeLessThan(2);
  });

  it('starts no bootstrap once a stop is requested before bootstrapRecords are held', async () => {
    const { stop, logs, dir } = await start(3000, true);
    await new Promise((r) => setTimeout(r, 300));
    const { summary, seconds } = await stop();
    expect(seconds).toBeLessThan(2);
    expect(logs.text).toContain('bootstrap k-means not started: the pipeline is stopping');
    expect(logs.text).not.toContain('bootstrap k-means: choosing between');
    const lines = await linesOf(dir);
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.records).toBeLessThan(3000);
    expect(summary.written).toBe(summary.records);
    expect(lines.every((l) => l.cluster === null)).toBe(true);
  });
});
