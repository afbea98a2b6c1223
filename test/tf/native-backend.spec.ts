/**
 * The native TensorFlow backend, as provisioned by `npm run setup:tensorflow`. CI provisions it
 * before the tests, so a missing or broken binding fails here instead of silently leaving every
 * model on a backend 50-100x slower.
 */
import { describe, expect, it } from 'vitest';
import { BACKEND_PREFERENCE, loadBackend, selectBackend } from '../../src/tf/backends.ts';
import { tf } from '../../src/tf/tf.ts';
import { maxAbsDifference, runDenseNetwork, type DenseResults } from './dense-network.ts';

describe('native TensorFlow backend', () => {
  it('loads after `npm run setup:tensorflow` and becomes the active backend', async () => {
    await loadBackend('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).arraySync())).toEqual([[11]]);
  });

  it('gives the same outputs and gradients as wasm and cpu on a seeded dense network (within 1e-4)', async () => {
    const results: Record<string, DenseResults> = {};
    for (const backend of ['tensorflow', 'wasm', 'cpu'] as const) {
      await loadBackend(backend);
      results[backend] = await runDenseNetwork();
    }
    for (const other of ['wasm', 'cpu']) {
      expect(maxAbsDifference(results.tensorflow.outputs, results[other].outputs)).toBeLessThan(1e-4);
      expect(maxAbsDifference(results.tensorflow.gradients, results[other].gradients)).toBeLessThan(1e-4);
    }
    // Guards the comparison itself: the network produced non-trivial numbers.
    expect(Math.max(...results.tensorflow.gradients.map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('is what `auto` picks, and the log says why faster backends were skipped', async () => {
    const lines: string[] = [];
    const selection = await selectBackend('auto', (line) => lines.push(line));

    expect(['tensorflow-gpu', 'tensorflow']).toContain(selection.backend);
    expect(tf.getBackend()).toBe('tensorflow');
    const fasterThanChosen = BACKEND_PREFERENCE.slice(0, BACKEND_PREFERENCE.indexOf(selection.backend));
    expect(selection.skipped.map((s) => s.backend)).toEqual(fasterThanChosen);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`backend: ${selection.backend}`);
    for (const { backend, reason } of selection.skipped) {
      expect(reason.length).toBeGreaterThan(0);
      expect(lines[0]).toContain(`${backend} (${reason})`);
    }
  });

  it('leaves file:// models to tfjs-node, so each URL has exactly one handler', async () => {
    await loadBackend('tensorflow');
    expect(tf.io.getLoadHandlers('file:///tmp/some-model/model.json')).toHaveLength(1);
    expect(tf.io.getSaveHandlers('file:///tmp/some-model')).toHaveLength(1);
  });
});
