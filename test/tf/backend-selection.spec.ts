import { describe, expect, it } from 'vitest';
import { describeSelection, loadBackend, selectBackend, type BackendName } from '../../src/tf/backends.ts';
import { tf } from '../../src/tf/tf.ts';

describe('selectBackend with an explicit choice', () => {
  it('activates the requested backend and logs that it was requested', async () => {
    const lines: string[] = [];
    expect(await selectBackend('wasm', (line) => lines.push(line))).toEqual({ backend: 'wasm', skipped: [] });
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toEqual(['TensorFlow.js backend: wasm (requested)']);

    await selectBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('runs wasm from the package files on disk, with SIMD', async () => {
    await loadBackend('wasm');
    expect(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')).toBe(true);
    expect(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).arraySync())).toEqual([4, 6]);
  });

  it('rejects an unknown backend name with a coded error listing the valid ones', async () => {
    await expect(loadBackend('webgpu' as BackendName)).rejects.toMatchObject({
      code: 'TS_ERR_BACKEND_UNKNOWN',
      message: expect.stringContaining('tensorflow-gpu, tensorflow, wasm, cpu'),
    });
  });
});

describe('describeSelection', () => {
  it('names the chosen backend and each skipped one with its reason', () => {
    expect(describeSelection('wasm', [
      { backend: 'tensorflow-gpu', reason: 'not installed' },
      { backend: 'tensorflow', reason: 'binding missing' },
    ])).toBe('TensorFlow.js backend: wasm (auto); skipped tensorflow-gpu (not installed), tensorflow (binding missing)');
    expect(describeSelection('tensorflow-gpu', [])).toBe('TensorFlow.js backend: tensorflow-gpu (auto), the fastest available');
  });
});
