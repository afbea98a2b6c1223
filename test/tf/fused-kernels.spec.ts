import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { geluExact, l2Normalize } from '../../src/clustering/temi/head-forward.ts';
import { TemiTrainer } from '../../src/clustering/temi/index.ts';
import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import { teacherTargets, teacherTargetsOps, temiHeadLosses, temiHeadLossesOps } from '../../src/clustering/temi/temi-loss.ts';
import { loadBackend } from '../../src/tf/backends.ts';
import { FUSED_KERNELS_FILE, type FusedKernels, fusedKernels, fusedKernelsStatus, staleBuild } from '../../src/tf/fused-kernels.ts';
import { tf } from '../../src/tf/tf.ts';

const HEADS = 3;
const ROWS = 5;
const PER = 37; // not a multiple of any vector width, so the loops' tails run too

/** Largest |a - b| / (1 + |b|) over all elements. */
function worstError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(b), 1))).dataSync()[0]);
}

/** TensorFlow.js's path for biasGeluSplit: the function the kernel must compute. */
function portableGeluSplit(pre: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor3D {
  return tf.transpose(tf.reshape(geluExact(tf.add(pre, bias)), [ROWS, HEADS, PER]), [1, 0, 2]);
}

describe('TEMI fused kernels on native TensorFlow (CPU)', () => {
  let kernels: FusedKernels;

  beforeAll(async () => {
    await loadBackend('tensorflow');
    const loaded = fusedKernels();
    // npm run setup:tensorflow builds them: a missing build is a setup failure, not a reason to skip.
    if (!loaded) throw new Error(`fused kernels not available: ${fusedKernelsStatus()}`);
    kernels = loaded;
  });

  it('bias + exact GELU + head split equals the TensorFlow.js ops, tails included', () => {
    tf.tidy(() => {
      // Spread wide enough to reach Phi's far tails (|x| up to ~10) and exact zeros.
      const pre = tf.concat([tf.randomNormal([ROWS - 1, HEADS * PER], 0, 4, 'float32', 1), tf.zeros([1, HEADS * PER])]) as tf.Tensor2D;
      const bias = tf.randomNormal([HEADS * PER], 0, 1, 'float32', 2) as tf.Tensor1D;
      const fused = kernels.biasGeluSplit(pre, bias, HEADS);
      expect(fused.shape).toEqual([HEADS, ROWS, PER]);
      expect(worstError(fused, portableGeluSplit(pre, bias))).toBeLessThan(2e-6);
    });
  });

  it('its gradients equal the gradients of the TensorFlow.js ops', () => {
    tf.tidy(() => {
      const pre = tf.randomNormal([ROWS, HEADS * PER], 0, 3, 'float32', 3) as tf.Tensor2D;
      const bias = tf.randomNormal([HEADS * PER], 0, 1, 'float32', 4) as tf.Tensor1D;
      const upstream = tf.randomNormal([HEADS, ROWS, PER], 0, 1, 'float32', 5) as tf.Tensor3D;
      const [dpre, dbias] = kernels.biasGeluSplitGrad(upstream, pre, bias);
      const [wantPre, wantBias] = tf.grads((p: tf.Tensor, b: tf.Tensor) => portableGeluSplit(p as tf.Tensor2D, b as tf.Tensor1D))([pre, bias], upstream);
      expect(worstError(dpre, wantPre)).toBeLessThan(2e-6);
      expect(worstError(dbias, wantBias)).toBeLessThan(1e-5);
    });
  });

  it('bias + L2 normalisation and its gradients equal the TensorFlow.js ops', () => {
    tf.tidy(() => {
      const y = tf.randomNormal([HEADS, ROWS, PER], 0, 1, 'float32', 6) as tf.Tensor3D;
      const bias = tf.randomNormal([HEADS, 1, PER], 0, 1, 'float32', 7) as tf.Tensor3D;
      const portable = (a: tf.Tensor, b: tf.Tensor) => l2Normalize(tf.add(a, b), 2);
      expect(worstError(kernels.biasL2Normalize(y, bias), portable(y, bias))).toBeLessThan(1e-6);
      const upstream = tf.randomNormal([HEADS, ROWS, PER], 0, 1, 'float32', 8) as tf.Tensor3D;
      const [dy, dbias] = kernels.biasL2NormalizeGrad(upstream, y, bias);
      const [wantY, wantBias] = tf.grads(portable)([y, bias], upstream);
      expect(dbias.shape).toEqual([HEADS, 1, PER]);
      expect(worstError(dy, wantY)).toBeLessThan(1e-6);
      expect(worstError(dbias, wantBias)).toBeLessThan(1e-5);
    });
  });

  it('an all-zero row normalises to zeros with the gradient of F.normalize (x / eps there), not NaN', () => {
    tf.tidy(() => {
      const zero = tf.zeros([1, 1, PER]) as tf.Tensor3D;
      expect(Array.from(kernels.biasL2Normalize(zero, zero).dataSync()).every((v) => v === 0)).toBe(true);
      const upstream = tf.randomNormal([1, 1, PER], 0, 1, 'float32', 9) as tf.Tensor3D;
      const [dy] = kernels.biasL2NormalizeGrad(upstream, zero, zero);
      expect(worstError(tf.mul(dy, 1e-12), upstream)).toBeLessThan(1e-6);
    });
  });

  it('the moving average is momentum * average + (1 - momentum) * value', () => {
    tf.tidy(() => {
      const average = tf.randomNormal([70_001], 0, 1, 'float32', 10);
      const value = tf.randomNormal([70_001], 0, 1, 'float32', 11);
      const got = kernels.movingAverage(average, value, 0.996);
      expect(worstError(got, tf.add(tf.mul(average, 0.996), tf.mul(value, 1 - 0.996)))).toBeLessThan(1e-6);
    });
  });

  it("TEMI's teacher targets equal the TensorFlow.js ops: log probabilities, updated marginal, pair weights", () => {
    tf.tidy(() => {
      const logits = tf.randomNormal([HEADS, 2 * ROWS, 10], 0, 3, 'float32', 12) as tf.Tensor3D;
      const marginal = tf.softmax(tf.randomNormal([HEADS, 1, 10], 0, 1, 'float32', 13)) as tf.Tensor3D;
      const fused = teacherTargets(logits, marginal, 0.04, 0.9);
      const ops = teacherTargetsOps(logits, marginal, 0.04, 0.9);
      expect(worstError(fused.logProbabilities, ops.logProbabilities)).toBeLessThan(2e-6);
      expect(worstError(fused.marginal, ops.marginal)).toBeLessThan(1e-6);
      expect(fused.pairWeight.shape).toEqual([ROWS]);
      expect(worstError(fused.pairWeight, ops.pairWeight)).toBeLessThan(1e-6);
    });
  });

  it("TEMI's per-head losses and their gradient equal the TensorFlow.js ops", () => {
    tf.tidy(() => {
      const targets = teacherTargetsOps(
        tf.randomNormal([HEADS, 2 * ROWS, 10], 0, 3, 'float32', 14) as tf.Tensor3D,
        tf.softmax(tf.randomNormal([HEADS, 1, 10], 0, 1, 'float32', 15)) as tf.Tensor3D,
        0.04,
        0.9,
      );
      const student = tf.randomNormal([HEADS, 2 * ROWS, 10], 0, 2, 'float32', 16) as tf.Tensor3D;
      const upstream = tf.randomNormal([HEADS], 0, 1, 'float32', 17) as tf.Tensor1D;
      expect(worstError(temiHeadLosses(student, targets, 0.6, 0.1), temiHeadLossesOps(student, targets, 0.6, 0.1))).toBeLessThan(2e-6);
      const fusedGrad = tf.grad((s: tf.Tensor) => temiHeadLosses(s as tf.Tensor3D, targets, 0.6, 0.1))(student, upstream);
      const opsGrad = tf.grad((s: tf.Tensor) => temiHeadLossesOps(s as tf.Tensor3D, targets, 0.6, 0.1))(student, upstream);
      const scale = tf.max(tf.abs(opsGrad)).dataSync()[0];
      expect(tf.max(tf.abs(tf.sub(fusedGrad, opsGrad))).dataSync()[0] / scale).toBeLessThan(1e-5);
    });
  });

  it.each([true, false])("MMDC's batch norm (relu: %s), training mode with its gradients and eval mode, equals the TensorFlow.js ops", (relu) => {
    tf.tidy(() => {
      const x = tf.randomNormal([4, 5, 6, 19], 0.5, 2, 'float32', 18) as tf.Tensor4D;
      const gamma = tf.randomNormal([19], 1, 0.3, 'float32', 19) as tf.Tensor1D;
      const beta = tf.randomNormal([19], 0, 0.5, 'float32', 20) as tf.Tensor1D;
      const ops = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.sub(a, mean), tf.mul(g, tf.rsqrt(tf.add(variance, 1e-5)))), b);
        return relu ? tf.relu(y) : y;
      };
      const [y, mean, variance] = kernels.batchNormRelu(x, gamma, beta, 1e-5, relu);
      const want = tf.moments(x, [0, 1, 2]);
      expect(worstError(y, ops(x, gamma, beta))).toBeLessThan(2e-6);
      expect(worstError(mean, want.mean)).toBeLessThan(1e-6);
      expect(worstError(variance, want.variance)).toBeLessThan(1e-6);
      const upstream = tf.randomNormal(x.shape, 0, 1, 'float32', 21);
      const [dx, dgamma, dbeta] = kernels.batchNormReluGrad(upstream, { x, gamma, beta, mean, variance }, 1e-5, relu);
      const [wantX, wantGamma, wantBeta] = tf.grads(ops)([x, gamma, beta], upstream);
      expect(worstError(dx, wantX)).toBeLessThan(1e-5);
      expect(worstError(dgamma, wantGamma)).toBeLessThan(1e-5);
      expect(worstError(dbeta, wantBeta)).toBeLessThan(1e-5);
      // Eval mode: the given (running) moments instead of the batch's.
      const running = { gamma, beta, mean: tf.randomNormal([19], 0, 1, 'float32', 22) as tf.Tensor1D, variance: tf.randomUniform([19], 0.5, 2, 'float32', 23) as tf.Tensor1D };
      const evalOps = tf.add(tf.mul(tf.sub(x, running.mean), tf.mul(gamma, tf.rsqrt(tf.add(running.variance, 1e-5)))), beta);
      expect(worstError(kernels.batchNormReluInference(x, running, 1e-5, relu), relu ? tf.relu(evalOps) : evalOps)).toBeLessThan(2e-6);
    });
  });

  it('a TEMI round on them trains (the loss falls) and leaves no tensor behind, a failed round included', async () => {
    const random = new SeededRandom(5);
    const count = 256;
    const dim = 12;
    const embeddings = Float32Array.from({ length: count * dim }, (_, i) => (i % dim === (Math.floor(i / dim) % 3) * 4 ? 3 : 0) + random.normal() * 0.3);
    const indices = Int32Array.from({ length: count * 4 }, (_, i) => (Math.floor(i / 4) + 3 * (1 + (i % 4))) % count);
    const data = { count, dim, embeddings, neighbours: { k: 4, indices } };
    const trainer = new TemiTrainer({ heads: 2, clusters: 3, hidden: 32, bottleneck: 16, batchSize: 64, learningRate: 1e-2, warmupEpochs: 1, seed: 1 });
    const losses: number[] = [];
    const first = await trainer.trainRound(data, { epochs: 6, onEpoch: ({ meanLoss }) => losses.push(meanLoss) });
    first.model.dispose();
    expect(losses[losses.length - 1]).toBeLessThan(losses[1]);
    const before = tf.memory().numTensors;
    (await trainer.trainRound(data, { epochs: 2 })).model.dispose();
    const poisoned = { ...data, embeddings: embeddings.map((v, i) => (i === 7 ? Number.NaN : v)) };
    await expect(trainer.trainRound(poisoned, { epochs: 1 })).rejects.toThrow(/non-finite/);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('refuses inputs of the wrong shape with an error naming the kernel, and keeps working', () => {
    tf.tidy(() => {
      const pre = tf.ones([2, 6]) as tf.Tensor2D;
      expect(() => kernels.biasGeluSplit(pre, tf.ones([5]) as tf.Tensor1D, 2)).toThrow(/TemiStreamBiasGeluSplit/);
      expect(() => kernels.biasGeluSplit(pre, tf.ones([6]) as tf.Tensor1D, 4)).toThrow(/multiple of heads/);
      expect(() => kernels.movingAverage(tf.ones([3]), tf.ones([4]), 0.5)).toThrow(/same shape/);
      expect(() => kernels.batchNormRelu(tf.ones([2, 3]), tf.ones([4]) as tf.Tensor1D, tf.ones([3]) as tf.Tensor1D, 1e-5, true)).toThrow(/TemiStreamBatchNormRelu/);
      expect(() => kernels.teacherTargets(tf.ones([2, 3, 4]) as tf.Tensor3D, tf.ones([2, 1, 4]) as tf.Tensor3D, 1, 0.5)).toThrow(/\[H, 2B, C\]/);
      expect(kernels.biasGeluSplit(pre, tf.zeros([6]) as tf.Tensor1D, 2).shape).toEqual([2, 2, 3]);
    });
  });

  it('load again after a worker thread that loaded them first has exited (TensorFlow aborts on a second registration)', () => {
    // A fresh process: in this one the kernels are already loaded. The train stage's worker
    // thread loads them first when training runs there, then the pipeline's thread loads them.
    const script = `
      const { Worker } = await import('node:worker_threads');
      const { loadBackend } = await import('./src/tf/backends.ts');
      await loadBackend('tensorflow');
      const load = 'const m = { exports: {} }; process.dlopen(m, ' + JSON.stringify(${JSON.stringify(FUSED_KERNELS_FILE)}) + '); import("node:worker_threads").then(({ parentPort }) => parentPort.postMessage(String(m.exports.register())));';
      const worker = new Worker(load, { eval: true });
      const inWorker = await new Promise((resolve) => worker.on('message', resolve));
      await worker.terminate();
      const { fusedKernels } = await import('./src/tf/fused-kernels.ts');
      const { tf } = await import('./src/tf/tf.ts');
      const out = fusedKernels().movingAverage(tf.ones([4]), tf.zeros([4]), 0.25).dataSync();
      console.log(inWorker + ' ' + Array.from(out).join(','));
    `;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
      encoding: 'utf8',
    });
    expect(output.trim().split('\n').pop()).toBe('null 0.25,0.25,0.25,0.25');
  });

  it('are built from the sources in src/tf/native, and a build from other sources is not used', () => {
    expect(staleBuild(FUSED_KERNELS_FILE)).toBeUndefined();
    // A build whose digest does not match (the code was updated, setup not rerun) would lack the
    // ops added since: it is refused with what to run, and TEMI trains on the TensorFlow.js ops.
    const old = path.join(mkdtempSync(path.join(tmpdir(), 'temi-kernels-')), 'temi_kernels.node');
    writeFileSync(`${old}.sources`, 'an older digest\n');
    expect(staleBuild(old)).toMatch(/built from other sources .* npm run setup:tensorflow/);
  });

  it('are not used on the other backends, which keep the TensorFlow.js path', async () => {
    await loadBackend('cpu');
    try {
      expect(fusedKernels()).toBeUndefined();
      expect(fusedKernelsStatus()).toBe('not used on cpu');
    } finally {
      await loadBackend('tensorflow');
    }
  });
});
