import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestedData } from '../../scripts/demo/choose-dataset.ts';
import { demoSummary } from '../../scripts/demo/demo-summary.ts';
import { scoreLabelsFile } from '../../scripts/demo/score-labels.ts';
import { tempDir } from '../support/pipeline-harness.ts';

describe('npm run demo', () => {
  it('takes the dataset from --data, --shapes or DEMO_DATA, the flag winning, and refuses anything else', () => {
    expect(requestedData([], {})).toBe('auto');
    expect(requestedData([], { DEMO_DATA: 'shapes' })).toBe('shapes');
    expect(requestedData(['--data', 'fashion-mnist'], { DEMO_DATA: 'shapes' })).toBe('fashion-mnist');
    expect(requestedData(['--data=shapes'], {})).toBe('shapes');
    expect(requestedData(['--shapes'], {})).toBe('shapes');
    expect(requestedData(['--data', 'mnist'], {})).toBeUndefined();
    expect(requestedData(['--verbose'], {})).toBeUndefined();
    expect(requestedData([], { DEMO_DATA: 'cifar' })).toBeUndefined();
  });

  it('scores each record first as emitted and then as delivered (its highest model version), as a reader of the labels file sees them', async () => {
    const file = join(await tempDir('temi-demo-'), 'labels.jsonl');
    const line = (id: string, cluster: number | null, modelVersion: number | null, label: number, revision = false) => JSON.stringify({ id, cluster, modelVersion, label, ...(revision ? { revision: true } : {}) });
    await writeFile(
      file,
      [
        line('a', 0, 1, 0),
        line('b', 0, 1, 1), // wrong at first
        line('c', 1, 1, 1),
        line('d', null, null, 0), // unassigned at first
        line('b', 1, 2, 1, true),
        line('d', 0, 2, 0, true),
        line('c', 0, 0, 1, true), // an older model version arriving late does not win
      ].join('\n'),
    );
    const scores = await scoreLabelsFile(file);
    expect(scores.records).toBe(4);
    expect(scores.revisions).toBe(3);
    expect(scores.firstEmitted).toMatchObject({ n: 4, acc: 0.75, clustersUsed: 3 });
    expect(scores.delivered).toMatchObject({ n: 4, acc: 1, nmi: 1, clustersUsed: 2 });

    const summary = demoSummary({ data: 'shapes', seconds: 75, exitCode: 0, labels: scores, labelsPath: 'out/labels.jsonl', reportPath: '/x/report.html', evaluation: { finalModel: { acc: 1, nmi: 1, ari: 1 } } });
    expect(summary.split('\n')).toEqual([
      'demo (shapes): 4 records, 3 revised labels, 1 min 15 s wall time',
      expect.stringMatching(/^ {2}first emitted {2}ACC 0\.750 /),
      expect.stringMatching(/^ {2}delivered {6}ACC 1\.000 {2}NMI 1\.000 /),
      expect.stringMatching(/^ {2}final model {4}ACC 1\.000 /),
      '  labels: out/labels.jsonl',
      '  report: /x/report.html',
    ]);
  });
});
