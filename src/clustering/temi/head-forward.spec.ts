import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf/tf.ts';
import { geluExact } from './head-forward.ts';

describe('geluExact', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const x = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6];
  // x Phi(x) written as plain ops, differentiated by TensorFlow.js: what the written-out gradient replaces.
  const byOps = (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1));

  it('is x Phi(x), the erf form', () => {
    const got = tf.tidy(() => Array.from(geluExact(tf.tensor1d(x)).dataSync()));
    const want = tf.tidy(() => Array.from(byOps(tf.tensor1d(x)).dataSync()));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  });

  it('has the gradient of x Phi(x), upstream gradient included', () => {
    const upstream = tf.tensor1d([1, -2, 0.5, 3, 1, -1, 2, 0.25]);
    const got = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.mul(geluExact(t), upstream))(tf.tensor1d(x)).dataSync()));
    const want = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.mul(byOps(t), upstream))(tf.tensor1d(x)).dataSync()));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    upstream.dispose();
  });
});
