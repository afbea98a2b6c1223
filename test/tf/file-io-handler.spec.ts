/**
 * file:// models without tfjs-node: this file never loads the native backend, so the project's
 * own file-system router is the one tf.io uses (each spec file runs in its own process).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../../src/tf/backends.ts';
import { tf } from '../../src/tf/tf.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'temi-file-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function smallLayersModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.randomNormal({ seed: 2 }) }));
  return model;
}

/** y = x · w with w split over two shards, in the converter's graph-model format. */
async function writeGraphModel(modelDir: string): Promise<void> {
  const w = new Float32Array([1, 2, 3, 4, 5, 6]);
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'hand-written test fixture',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } } } },
        { name: 'y', op: 'MatMul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [{ name: 'w', shape: [3, 2], dtype: 'float32' }] }],
  };
  await writeFile(path.join(modelDir, 'model.json'), JSON.stringify(modelJson));
  await writeFile(path.join(modelDir, 'group1-shard1of2.bin'), new Uint8Array(w.buffer, 0, 16));
  await writeFile(path.join(modelDir, 'group1-shard2of2.bin'), new Uint8Array(w.buffer, 16, 8));
}

describe.each(['cpu', 'wasm'] as const)('file:// models on the %s backend', (backend) => {
  beforeAll(async () => {
    await loadBackend(backend);
  });

  it('saves a LayersModel to a directory and loads it back with the same predictions', async () => {
    const modelDir = path.join(dir, `layers-${backend}`);
    const model = smallLayersModel();
    const input = tf.tensor2d([[0.1, 0.2, 0.3, 0.4], [1, 0, -1, 0.5]]);
    const expected = (model.predict(input) as tf.Tensor).arraySync() as number[][];

    await model.save(`file://${modelDir}`);
    const loaded = await tf.loadLayersModel(`file://${path.join(modelDir, 'model.json')}`);
    const actual = (loaded.predict(input) as tf.Tensor).arraySync() as number[][];

    expect(tf.getBackend()).toBe(backend);
    actual.flat().forEach((value, i) => expect(value).toBeCloseTo(expected.flat()[i], 6));
    tf.dispose([input, model, loaded] as never);
  });

  it('loads a GraphModel whose weights are split over two shards', async () => {
    const modelDir = path.join(dir, `graph-${backend}`);
    await import('node:fs/promises').then((fs) => fs.mkdir(modelDir, { recursive: true }));
    await writeGraphModel(modelDir);

    const model = await tf.loadGraphModel(`file://${path.join(modelDir, 'model.json')}`);
    const output = model.predict(tf.tensor2d([[1, 0, 0], [1, 1, 1]])) as tf.Tensor;

    expect(output.arraySync()).toEqual([[1, 2], [9, 12]]);
    model.dispose();
  });

  it('reports a missing model.json with a coded error naming the path', async () => {
    const missing = path.join(dir, 'nowhere', 'model.json');
    await expect(tf.loadLayersModel(`file://${missing}`)).rejects.toMatchObject({
      code: 'TS_ERR_MODEL_FILE_NOT_FOUND',
      where: missing,
    });
  });
});
