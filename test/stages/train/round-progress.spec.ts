import { describe, expect, it } from 'vitest';
import { roundProgress } from '../../../src/stages/train/round-progress.ts';
import { blobSource } from '../../support/blob-source.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';

describe('the progress line during training', () => {
  it('says which round runs and its epoch out of what the step budget gives', () => {
    const shown: Array<string | undefined> = [];
    const report = roundProgress({ set: (text) => shown.push(text) }, { epochs: 1, minSteps: 40, batchSize: 64 });
    report({ round: 2, phase: 'mining' });
    // 600 rows at batch 64: 9 full batches an epoch, so 40 steps take 5 epochs
    report({ round: 2, phase: 'training', rows: 600, epoch: 3 });
    report({ round: 2, phase: 'choosing', rows: 600 });
    report({ round: 2, phase: 'done' });
    expect(shown).toEqual(['round 2, mining neighbours', 'round 2, epoch 3/5', 'round 2, choosing a model', 'round 2 done']);
  });

  it('shows records ingested, indexed, the last round, labelled and written, in pipeline order', async () => {
    const { logs } = await runForTest(
      {
        name: 'progress',
        source: { use: 'finite-blobs' },
        stages: [
          { use: 'index', with: { capacity: 5000 } },
          { use: 'train', with: { trainer: 'kmeans', clusters: 4, firstRoundAt: 300, everyRecords: 300, k: 5 } },
          { use: 'assign', with: { beforeFirstModel: 'bootstrap', bootstrapRecords: 100, bootstrapClusters: 4 } },
        ],
        sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        runtime: { progress: 'lines' },
      },
      await tempDir(),
      [blobSource('finite-blobs', 600)],
    );
    const last = logs.trim().split('\n').filter((l) => l.startsWith('progress: ')).at(-1);
    expect(last).toMatch(/^progress: ingested 600 {2}indexed 600 {2}train: round \d done {2}labelled 600 {2}written 600/);
  });
});
