import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFile } from '../../src/cli/validate-command.ts';
import { createRegistryWithBuiltins } from '../../src/plugins/builtin-plugins.ts';
import { resolvePipelineFile } from '../../src/plugins/resolve-pipeline.ts';
import { PipelineRun } from '../../src/runtime/pipeline-run.ts';
import { TextSink, tempDir } from '../support/pipeline-harness.ts';
import { seededRandom } from './hostile-inputs.ts';

const DATASET = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const ROWS = 600;

/**
 * The demo pipeline with its numbers nudged across the limits validate draws (k against the
 * index's capacity, maxInFlight against firstRoundAt), on 600 rows with the fast kmeans trainer.
 * Whatever validate accepts must start, run to the end and train a model: the cross-stage
 * rules exist so that "valid" means "works".
 */
async function demoMutant(random: () => number): Promise<Record<string, any>> {
  const demo = JSON.parse(await readFile('pipelines/fashion-mnist.json', 'utf8')) as Record<string, any>;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const train = demo.stages.find((s: { use: string }) => s.use === 'train').with;
  const index = demo.stages.find((s: { use: string }) => s.use === 'index').with;
  Object.assign(train, { trainer: 'kmeans', thread: 'main', epochs: 1, minSteps: 1, everyRecords: 100_000 });
  index.capacity = pick([49, 50, 51, 300, 20_000]);
  train.k = pick([5, 49, 50, 51]);
  train.firstRoundAt = pick([100, 200, 599, 2000]);
  demo.runtime.maxInFlight = pick([100, 199, 200, 201, 4096]);
  demo.source.with.limit = ROWS;
  delete demo.source.with.idx.labels;
  demo.stages = demo.stages.filter((s: { use: string }) => s.use !== 'evaluate');
  return demo;
}

describe('pipelines that validate also work', () => {
  it('accepted mutants of the demo pipeline start, finish and train; refused ones are refused with a cross-stage code', async () => {
    const available = await access(DATASET).then(
      () => true,
      () => false,
    );
    expect(available, `${DATASET} (npm run setup:datasets)`).toBe(true);
    const random = seededRandom(1203);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      const dir = await tempDir('temi-accepted-');
      const spec = await demoMutant(random);
      Object.assign(spec, { sink: { use: 'jsonl', with: { path: join(dir, 'labels.jsonl'), fsync: false } }, state: { dir: join(dir, 'state') } });
      spec.runtime = { ...spec.runtime, progress: 'off', logLevel: 'warn' };
      const file = join(dir, 'pipeline.json');
      await writeFile(file, JSON.stringify(spec));
      const verdict = await validateFile(file, { PATH: process.env.PATH });
      const knobs = `capacity ${spec.stages[2].with.capacity}, k ${spec.stages[3].with.k}, firstRoundAt ${spec.stages[3].with.firstRoundAt}, maxInFlight ${spec.runtime.maxInFlight}`;
      if (!verdict.valid) {
        refused++;
        for (const issue of verdict.issues) expect(issue.code, knobs).toMatch(/^TS_ERR_PIPELINE_(TRAIN_K|IN_FLIGHT_TOO_LOW)$/);
        continue;
      }
      accepted++;
      const resolved = await resolvePipelineFile(file, createRegistryWithBuiltins(), { PATH: process.env.PATH });
      if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
      const summary = await new PipelineRun(resolved.pipeline, { logStream: new TextSink(), progressStream: new TextSink() }).execute();
      expect(summary.written, knobs).toBe(ROWS);
      const model = JSON.parse(await readFile(join(dir, 'state', 'models', 'latest.json'), 'utf8')) as { version: number };
      expect(model.version, knobs).toBeGreaterThanOrEqual(1);
    }
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 300_000);
});
