import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendName, loadBackend } from '../../tf/backends.ts';
import { resourceVariablesAvailable } from '../../tf/resource-variables.ts';
import { tf } from '../../tf/tf.ts';
import { ADAMW_DEFAULTS, AdamW } from './adamw.ts';
import { PARAMETER_NAMES, parameterSpecs } from './head-layout.ts';

// The same expectations on the portable path (TensorFlow.js ops) and on native TensorFlow's
// fused in-place kernel, which is what training runs on wherever the native backend loads.
describe.each<{ backend: BackendName; fused: boolean }>([
  { backend: 'cpu', fused: false },
  { backend: 'tensorflow', fused: true },
])('AdamW on $backend', ({ backend, fused }) => {
  beforeAll(async () => {
    await loadBackend(backend);
  });

  it(fused ? 'runs the fused kernel on resource variables' : 'runs as TensorFlow.js ops', () => {
    expect(resourceVariablesAvailable()).toBe(fused);
  });

  it('decays only the tensors marked for decay, decoupled from the gradient', () => {
    const matrix = tf.variable(tf.tensor2d([[1, -2], [3, 4]]));
    const bias = tf.variable(tf.tensor1d([1, -2]));
    const adam = new AdamW(
      [
        { name: 'matrix', variable: matrix, decays: true },
        { name: 'bias', variable: bias, decays: false },
      ],
      { ...ADAMW_DEFAULTS, weightDecay: 0.1 },
    );
    const lr = 0.01;
    // Zero gradients: the Adam part is exactly 0, so only the decay can move a parameter.
    for (let i = 0; i < 10; i++) {
      tf.tidy(() => adam.step(new Map([['matrix', tf.zeros([2, 2])], ['bias', tf.zeros([2])]]), lr));
    }
    const shrink = (1 - lr * 0.1) ** 10;
    Array.from(matrix.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([1, -2, 3, 4][i] * shrink, 5));
    expect(Array.from(bias.dataSync())).toEqual([1, -2]);
    adam.dispose();
    matrix.dispose();
    bias.dispose();
  });

  it('takes the bias-corrected Adam step of torch.optim.AdamW', () => {
    const p = tf.variable(tf.tensor2d([[0.5, -0.25]]));
    const adam = new AdamW([{ name: 'p', variable: p, decays: true }], { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
    const lr = 0.1;
    const grads = [[0.2, -0.4], [-0.1, 0.3]];
    // By hand, as torch does it: p *= 1 - lr wd; m, v EMAs; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
    const expected = [0.5, -0.25];
    const m = [0, 0];
    const v = [0, 0];
    grads.forEach((g, t) => {
      tf.tidy(() => adam.step(new Map([['p', tf.tensor2d([g])]]), lr));
      for (let i = 0; i < 2; i++) {
        expected[i] *= 1 - lr * 0.01;
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
        expected[i] -= (lr / (1 - 0.9 ** (t + 1))) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** (t + 1)) + 1e-8));
      }
    });
    Array.from(p.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
    expect(adam.stepCounts()).toEqual({ p: 2 });
    adam.dispose();
    p.dispose();
  });

  it('puts its moments back from a checkpoint, and carries them through export and import', () => {
    const p = tf.variable(tf.tensor2d([[0.5, -0.25, 2]]));
    const adam = new AdamW([{ name: 'p', variable: p, decays: true }], { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
    const step = (g: number[]) => tf.tidy(() => adam.step(new Map([['p', tf.tensor2d([g])]]), 0.1));
    step([0.2, -0.4, 1]);
    const saved = adam.exportState();
    const checkpoint = adam.checkpoint();
    step([5, 5, 5]);
    checkpoint.restore();
    checkpoint.dispose();
    expect(adam.exportState().p.firstMoment).toEqual(saved.p.firstMoment);
    expect(adam.exportState().p.secondMoment).toEqual(saved.p.secondMoment);

    // A second optimiser given the exported state takes the same next step as the first.
    const q = tf.variable(p.clone());
    const resumed = new AdamW([{ name: 'p', variable: q, decays: true }], { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
    resumed.importState(adam.exportState());
    resumed.setStepCounts(adam.stepCounts());
    step([0.3, 0.1, -0.2]);
    tf.tidy(() => resumed.step(new Map([['p', tf.tensor2d([[0.3, 0.1, -0.2]])]]), 0.1));
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    for (const x of [adam, resumed, p, q]) x.dispose();
  });

  it('leaves no tensors behind once disposed', () => {
    const before = tf.memory().numTensors;
    const p = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const adam = new AdamW([{ name: 'p', variable: p, decays: false }], { ...ADAMW_DEFAULTS, weightDecay: 0 });
    tf.tidy(() => adam.step(new Map([['p', tf.tensor1d([1, 1, 1])]]), 0.1));
    adam.checkpoint().dispose();
    adam.dispose();
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('in the TEMI heads, decays the matrices (>= 2 dims per head) and not the biases or gains', () => {
    const specs = parameterSpecs({ heads: 4, dim: 8, hidden: 6, bottleneck: 5, clusters: 3 });
    const decayed = PARAMETER_NAMES.filter((name) => specs[name].decays);
    expect(decayed).toEqual(['w1', 'w2', 'v']);
  });
});
