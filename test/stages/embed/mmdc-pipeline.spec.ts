/**
 * MMDC through the real runtime. Pipeline A streams an IDX file of small images through decode
 * -> pixels-embed (the images as they are) -> index (the bounded window of decoded images) ->
 * train (mmdc in its training thread) -> assign -> jsonl: the labels delivered come from the
 * ConvNet. Pipeline B reads A's state directory and embeds the same images with A's trunk
 * (embed with model.mmdc), so a k-means trainer clusters the learned features.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusteringAccuracy } from '../../../src/clustering/metrics/index.ts';
import { readLatestLabels } from '../../../src/report/index.ts';
import { BAR_CLASSES, BAR_SIDE, barImages } from '../../support/bar-images.ts';
import { runForTest, tempDir } from '../../support/pipeline-harness.ts';
import { idxImages, idxLabels, writeFileIn } from '../image-fixtures.ts';

const COUNT = 600;

interface Line {
  id: string;
  cluster: number | null;
  modelVersion: number | null;
  label: number;
  embedding?: number[];
}

async function writeBars(dir: string): Promise<void> {
  const bars = barImages(COUNT, 11);
  const size = BAR_SIDE * BAR_SIDE;
  await writeFileIn(join(dir, 'bars-images-idx3-ubyte'), idxImages(COUNT, BAR_SIDE, BAR_SIDE, (n, i) => Math.round(bars.embeddings[n * size + i] * 255)));
  await writeFileIn(join(dir, 'bars-labels-idx1-ubyte'), idxLabels([...bars.labels]));
}

const source = { use: 'files', with: { idx: { images: 'bars-images-idx3-ubyte', labels: 'bars-labels-idx1-ubyte' } } };

function trainingPipeline(): Record<string, unknown> {
  return {
    name: 'bars-mmdc',
    source,
    stages: [
      { use: 'decode', with: { preset: 'mnist' } },
      { use: 'pixels-embed', with: { projection: 'none', l2normalize: false } },
      { use: 'index', with: { capacity: 1000 } },
      {
        use: 'train',
        with: {
          trainer: 'mmdc',
          clusters: BAR_CLASSES,
          firstRoundAt: 300,
          everyRecords: 300,
          epochs: 8,
          k: 5,
          batchSize: 32,
          options: { widths: [8, 16, 16, 32], rotationEvery: 2, refineFraction: 0.25 },
        },
      },
      { use: 'assign' },
    ],
    sink: { use: 'jsonl', with: { path: 'labels.jsonl', fsync: false } },
    state: { dir: 'state-a' },
  };
}

async function latest(file: string): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const { line } of readLatestLabels<Line & { key: string }>(file)) lines.push(line);
  return lines;
}

function accuracy(lines: readonly Line[]): number {
  const assigned = lines.filter((l) => l.cluster !== null);
  return clusteringAccuracy(Int32Array.from(assigned, (l) => l.label), Int32Array.from(assigned, (l) => l.cluster!));
}

describe('the mmdc trainer in a pipeline', () => {
  it('delivers labels from the ConvNet it trains on the decoded images, and its trunk embeds for a second pipeline', async () => {
    const dir = await tempDir();
    await writeBars(dir);

    const a = await runForTest(trainingPipeline(), dir);
    expect(a.summary).toMatchObject({ records: COUNT, written: COUNT });
    const saved = JSON.parse(await readFile(join(dir, 'state-a', 'models', 'latest.json'), 'utf8')) as { trainer: string; version: number };
    expect(saved.trainer).toBe('mmdc');
    // What the trainer did, for an operator: rounds, samples/s, the backend and thread.
    const training = JSON.parse(await readFile(join(dir, 'state-a', 'training-summary.json'), 'utf8')) as Record<string, unknown>;
    expect(training).toMatchObject({ trainer: 'mmdc', backend: 'tensorflow', thread: 'worker' });
    expect(training.rounds).toBeGreaterThanOrEqual(2);
    expect(training.samplesPerSecond).toBeGreaterThan(0);
    const delivered = await latest(join(dir, 'labels.jsonl'));
    expect(delivered).toHaveLength(COUNT);
    // Records labelled before the first model are revised by the final pass: every one has a label.
    expect(delivered.every((l) => l.cluster !== null && l.modelVersion !== null)).toBe(true);
    expect(accuracy(delivered)).toBeGreaterThanOrEqual(0.9);

    const b = await runForTest(
      {
        name: 'bars-on-mmdc-features',
        source,
        stages: [
          { use: 'decode', with: { preset: 'mnist' } },
          { use: 'embed', with: { model: { mmdc: 'state-a' } } },
          { use: 'index', with: { capacity: 1000 } },
          { use: 'train', with: { trainer: 'kmeans', clusters: BAR_CLASSES, firstRoundAt: 300, everyRecords: 300, k: 5 } },
          { use: 'assign', with: { beforeFirstModel: 'bootstrap', bootstrapRecords: 100, bootstrapClusters: BAR_CLASSES } },
        ],
        sink: { use: 'jsonl', with: { path: 'features.jsonl', includeEmbedding: true, fsync: false } },
        state: { dir: 'state-b' },
      },
      dir,
    );
    expect(b.summary).toMatchObject({ records: COUNT, written: COUNT });
    const onFeatures = await latest(join(dir, 'features.jsonl'));
    // mmdc's features: d = clusters, unit length.
    for (const line of onFeatures.slice(0, 20)) {
      expect(line.embedding).toHaveLength(BAR_CLASSES);
      expect(Math.hypot(...line.embedding!)).toBeCloseTo(1, 4);
    }
    expect(accuracy(onFeatures)).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('embed with model.mmdc names the state directory when the model there is not an mmdc model', async () => {
    const dir = await tempDir();
    await writeBars(dir);
    await writeFileIn(join(dir, 'state-k', 'models', 'latest.json'), JSON.stringify({ version: 1, trainer: 'kmeans', publishedAt: 0, model: { trainer: 'kmeans' } }));
    const run = runForTest(
      { name: 'wrong-model', source, stages: [{ use: 'decode', with: { preset: 'mnist' } }, { use: 'embed', with: { model: { mmdc: 'state-k' } } }], sink: { use: 'jsonl', with: { path: 'x.jsonl' } } },
      dir,
    );
    await expect(run).rejects.toMatchObject({ code: 'TS_ERR_STAGE_START_FAILED', cause: { code: 'TS_ERR_MMDC_EMBED_NOT_MMDC' } });
    await expect(run).rejects.toThrow(/\$\.stages\[1\].*with\.model\.mmdc: the model in service at .*state-k.models.latest\.json was trained by "kmeans", not mmdc/);
  });

  it('embed with model.mmdc says which pipeline to run first when no model was published yet', async () => {
    const dir = await tempDir();
    await writeBars(dir);
    const run = runForTest({ name: 'no-model', source, stages: [{ use: 'decode', with: { preset: 'mnist' } }, { use: 'embed', with: { model: { mmdc: 'nothing-here' } } }], sink: { use: 'jsonl', with: { path: 'x.jsonl' } } }, dir);
    await expect(run).rejects.toMatchObject({ code: 'TS_ERR_STAGE_START_FAILED', cause: { code: 'TS_ERR_MMDC_EMBED_NO_MODEL' } });
    await expect(run).rejects.toThrow(/\$\.stages\[1\].*no published model at .*nothing-here.models.latest\.json: run the pipeline that trains mmdc/);
  });

  it('embed refuses model.mmdc beside another model key, naming the key', async () => {
    const dir = await tempDir();
    await writeBars(dir);
    const run = runForTest({ name: 'two-models', source, stages: [{ use: 'decode', with: { preset: 'mnist' } }, { use: 'embed', with: { model: { mmdc: 'state-a', builtin: 'mobilenet-v2' } } }], sink: { use: 'jsonl', with: { path: 'x.jsonl' } } }, dir);
    await expect(run).rejects.toMatchObject({ cause: { code: 'TS_ERR_EMBED_MODEL_CHOICE', where: 'with.model.builtin' } });
  });
});
