import { describe, expect, it } from 'vitest';
import { blobSource } from '../../support/blob-source.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';

const blobs = blobSource('finite-blobs', 600);

describe('train stage minSteps', () => {
  it.each(['worker', 'main'] as const)('runs as many epochs over a small first window as the step budget needs, and says so in the round log (training thread: %s)', async (thread) => {
    const dir = await tempDir();
    const { summary, logs } = await runForTest(
      {
        name: 'min-steps',
        source: { use: 'finite-blobs' },
        stages: [
          { use: 'index', with: { capacity: 5000 } },
          // 600 rows at batch 64: 9 steps per epoch, so 40 steps take 5 epochs instead of 1
          { use: 'train', with: { trainer: 'temi', clusters: 4, firstRoundAt: 600, epochs: 1, minSteps: 40, batchSize: 64, k: 5, heads: 2, thread, options: { hidden: 32, bottleneck: 16 } } },
          { use: 'assign', with: { beforeFirstModel: 'wait' } },
        ],
        sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        runtime: { progress: 'off', logLevel: 'info' },
      },
      dir,
      [blobs],
    );
    expect(summary.written).toBe(600);
    const rounds = logs
      .split('\n')
      .filter((line) => line.includes('"msg":"training round done"'))
      .map((line) => JSON.parse(line) as { epochs: number; rows: number });
    expect(rounds).toEqual([expect.objectContaining({ epochs: 5, rows: 600 })]);
    // Whichever thread trains says whether TEMI runs on its fused kernels (setup builds them).
    expect(logs).toContain("TEMI's fused CPU kernels: fused CPU kernels");
  });
});
