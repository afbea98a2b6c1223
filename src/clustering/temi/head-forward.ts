import { tf } from '../../tf/tf.ts';
import type { ParameterName } from './head-layout.ts';

export type HeadTensors = Record<ParameterName, tf.Tensor>;

const SQRT_HALF = Math.SQRT1_2;
/** F.normalize's epsilon: keeps an all-zero bottleneck vector from dividing by zero. */
const NORM_EPSILON = 1e-12;

/** GELU with the exact erf form (not the tanh approximation). */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT_HALF)), 1));
}

/** Rows scaled to unit L2 norm along `axis`. */
export function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  const norm = tf.sqrt(tf.sum(tf.square(x), axis, true));
  return tf.div(x, tf.maximum(norm, NORM_EPSILON));
}

/** Effective last-layer matrix [H, P, C]: column c is g_c * v_c / ||v_c||. */
export function weightNormalised(v: tf.Tensor, g: tf.Tensor): tf.Tensor {
  return tf.mul(l2Normalize(v, 1), g);
}

/**
 * Logits of every head for the rows of x: [H, R, C]. `heads` and `hidden` give the split of
 * the first layer's columns. Call inside tf.tidy (or a gradient scope).
 */
export function headLogits(p: HeadTensors, x: tf.Tensor2D, heads: number, hidden: number): tf.Tensor3D {
  const rows = x.shape[0];
  const h1 = geluExact(tf.add(tf.matMul(x, p.w1 as tf.Tensor2D), p.b1));
  const perHead = tf.transpose(tf.reshape(h1, [rows, heads, hidden]), [1, 0, 2]) as tf.Tensor3D;
  const z = l2Normalize(tf.add(tf.matMul(perHead, p.w2 as tf.Tensor3D), p.b2), 2) as tf.Tensor3D;
  return tf.matMul(z, weightNormalised(p.v, p.g) as tf.Tensor3D);
}
