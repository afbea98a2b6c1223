import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs, requestedData } from '../../scripts/demo/choose-dataset.ts';
import { preparePipeline } from '../../scripts/demo/split-pipeline.ts';
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

  it('takes another Fashion-MNIST pipeline and a split, and refuses them with the shapes', () => {
    expect(parseDemoArgs(['--pipeline', 'pipelines/fashion-mnist-mmdc.json', '--split', 'train'], {})).toEqual({ data: 'auto', pipeline: 'pipelines/fashion-mnist-mmdc.json', split: 'train' });
    expect(parseDemoArgs(['--split=test'], {})).toEqual({ data: 'auto', split: 'test' });
    expect(parseDemoArgs(['--split', 'valid'], {})).toBeUndefined();
    expect(parseDemoArgs(['--pipeline'], {})).toBeUndefined();
    expect(parseDemoArgs(['--data', 'shapes', '--split', 'train'], {})).toBeUndefined();
  });

  it('--split train runs a copy reading the train split, whose state and labels do not overwrite the test run', async () => {
    const prepared = preparePipeline('pipelines/fashion-mnist-mmdc.json', 'train');
    const copy = JSON.parse(await readFile(prepared.file, 'utf8')) as { source: { with: { idx: { images: string; labels: string } } }; state: { dir: string }; sink: { with: { path: string } } };
    expect(copy.source.with.idx).toEqual({ images: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz', labels: '/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz' });
    expect(copy.state.dir).toBe(resolve('state/fashion-mnist-mmdc-train'));
    expect(copy.sink.with.path).toBe(resolve('out/fashion-mnist-mmdc-labels-train.jsonl'));
    expect(prepared).toMatchObject({ stateDir: copy.state.dir, labelsPath: copy.sink.with.path });
    expect(preparePipeline('pipelines/fashion-mnist.json', undefined)).toEqual({ file: 'pipelines/fashion-mnist.json', stateDir: resolve('state/fashion-mnist'), labelsPath: resolve('out/fashion-mnist-labels.jsonl') });
    expect(() => preparePipeline('pipelines/shapes.json', 'train')).toThrow(/--split needs a files source reading Fashion-MNIST's IDX files/);
  });

  it("names the trainer, its samples/s and backend from the train stage's training-summary.json", () => {
    const summary = demoSummary({
      data: 'fashion-mnist train split',
      seconds: 300,
      exitCode: 0,
      labelsPath: 'out/x.jsonl',
      training: { trainer: 'mmdc', backend: 'tensorflow', thread: 'worker', rounds: 3, samples: 120_000, seconds: 240, samplesPerSecond: 500 },
    });
    expect(summary).toContain('  training       mmdc: 3 rounds, 120,000 samples in 4 min 00 s, 500 samples/s on tensorflow (worker thread)');
  });
});
