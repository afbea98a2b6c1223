import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderShapes } from '../../scripts/datasets/render-shapes.ts';
import { tempDir } from '../support/pipeline-harness.ts';

const bin = resolve('bin/temi-stream.js');
const PURE_JS_BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

async function run(pipeline: string): Promise<string> {
  const { stderr } = await promisify(execFile)(process.execPath, [bin, 'run', pipeline], { maxBuffer: 64 * 1024 * 1024 });
  return stderr;
}

// Regression (issue 17): a restart with a saved TEMI model rebuilt its tensors while plugins were
// created, before any stage had chosen a backend, so TensorFlow.js fell back to its pure-JS
// backend and printed its "install tfjs-node" banner although native TensorFlow was there.
describe('a restart with a saved model', () => {
  it('chooses the backend before the model becomes tensors: no pure-JS banner', async () => {
    const dir = await tempDir('temi-restart-');
    await renderShapes(join(dir, 'images'), 120);
    const pipeline = {
      name: 'restart',
      source: { use: 'files', with: { folder: 'images', labelsFrom: 'parent-folder' } },
      stages: [
        { use: 'decode', with: { size: 8, channels: 3, range: '0..1' } },
        { use: 'pixels-embed', with: { l2normalize: false } },
        { use: 'index', with: { metric: 'cos', capacity: 1000 } },
        { use: 'train', with: { trainer: 'temi', clusters: 6, heads: 2, firstRoundAt: 60, everyRecords: 1000, epochs: 1, minSteps: 10, k: 10, batchSize: 32, selectModel: false, thread: 'main' } },
        { use: 'assign' },
      ],
      sink: { use: 'jsonl', with: { path: 'labels.jsonl' } },
      state: { dir: 'state' },
      runtime: { progress: 'off' },
    };
    const file = join(dir, 'p.json');
    await writeFile(file, JSON.stringify(pipeline));
    await run(file);
    const second = await run(file);
    expect(second).toMatch(/"trainer":"temi","msg":"model restored"/);
    expect(second).not.toMatch(PURE_JS_BANNER);
  });
});
