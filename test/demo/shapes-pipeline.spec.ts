import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreLabelsFile } from '../../scripts/demo/score-labels.ts';
import { ensureShapes } from '../../scripts/demo/ensure-shapes.ts';
import { runForTest, tempDir } from '../support/pipeline-harness.ts';

/**
 * The demo's fallback on a machine without Fashion-MNIST: pipelines/shapes.json as shipped, on
 * the 500 rendered images, must hand out labels a user would call right. Scored on the labels
 * file as its reader sees it (each record's latest label), not on the evaluate stage's figures.
 */
describe('the shapes demo pipeline', () => {
  it('delivers labels with ACC >= 0.95 on the 500 rendered images', async () => {
    const dir = await tempDir('temi-shapes-');
    await ensureShapes(join(dir, 'shapes'));
    const shipped = JSON.parse(await readFile('pipelines/shapes.json', 'utf8')) as Record<string, { with?: Record<string, unknown> }>;
    const spec = {
      ...shipped,
      source: { ...shipped.source, with: { ...shipped.source.with, folder: 'shapes' } },
      sink: { ...shipped.sink, with: { ...shipped.sink.with, path: 'labels.jsonl' } },
      state: { dir: 'state' },
    };

    const { summary } = await runForTest(spec, dir);
    const scores = await scoreLabelsFile(join(dir, 'labels.jsonl'));
    const final = JSON.parse(await readFile(join(dir, 'state', 'evaluation-final.json'), 'utf8')) as { finalModel: { acc: number } };

    expect(summary.records).toBe(500);
    expect(scores.records).toBe(500);
    expect(scores.delivered!.acc).toBeGreaterThanOrEqual(0.95);
    expect(scores.delivered!.clustersUsed).toBe(6);
    expect(final.finalModel.acc).toBeGreaterThanOrEqual(0.95);
  });
});
