import { type FusedKernels, fusedKernels } from '../../tf/fused-kernels.ts';
import { tf } from '../../tf/tf.ts';
import type { ParameterName } from './head-layout.ts';

export type HeadTensors = Record<ParameterName, tf.Tensor>;

const SQRT_HALF = Math.SQRT1_2;
/** F.normalize's epsilon: keeps an all-zero bottleneck vector from dividing by zero. */
const NORM_EPSILON = 1e-12;

const INV_SQRT_TWO_PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU with the exact erf form (not the tanh approximation): x Phi(x). Its gradient is written
 * out, Phi(x) + x phi(x), reusing Phi from the forward pass: automatic differentiation of the
 * forward ops makes about twice as many passes over the [rows, heads x hidden] activations.
 */
export const geluExact: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const cdf = tf.add(tf.mul(tf.erf(tf.mul(x, SQRT_HALF)), 0.5), 0.5);
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, [input, phi]: tf.Tensor[]) => {
      const density = tf.mul(tf.exp(tf.mul(tf.square(input), -0.5)), INV_SQRT_TWO_PI);
      return tf.mul(dy, tf.add(phi, tf.mul(input, density)));
    },
  };
});

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
 * The first layer's activations split per head: gelu(x w1 + b1) as [H, R, M]. On native
 * TensorFlow on the CPU the bias, GELU and split run as one fused kernel each way; elsewhere as
 * TensorFlow.js ops (the same function).
 */
function firstLayerPerHead(x: tf.Tensor2D, w1: tf.Tensor2D, b1: tf.Tensor1D, heads: number, hidden: number): tf.Tensor3D {
  const pre = tf.matMul(x, w1);
  const kernels = fusedKernels();
  if (kernels) return fusedBiasGeluSplit(kernels, heads)(pre, b1) as tf.Tensor3D;
  const h1 = geluExact(tf.add(pre, b1));
  return tf.transpose(tf.reshape(h1, [x.shape[0], heads, hidden]), [1, 0, 2]);
}

function fusedBiasGeluSplit(kernels: FusedKernels, heads: number): (pre: tf.Tensor, bias: tf.Tensor) => tf.Tensor {
  return kernelWithGradient(
    (pre, bias) => kernels.biasGeluSplit(pre as tf.Tensor2D, bias as tf.Tensor1D, heads),
    (dy, pre, bias) => kernels.biasGeluSplitGrad(dy as tf.Tensor3D, pre as tf.Tensor2D, bias as tf.Tensor1D),
  );
}

/**
 * A fused kernel and its gradient kernel as one differentiable function of two tensors: both
 * inputs are saved for the backward pass, which gets them with the output's gradient.
 */
function kernelWithGradient(forward: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, backward: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor[]): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([a, b]);
    return { value: forward(a, b), gradFunc: (dy: tf.Tensor, [savedA, savedB]: tf.Tensor[]) => backward(dy, savedA, savedB) };
  });
}

/**
 * Logits of every head for the rows of x: [H, R, C]. `heads` and `hidden` give the split of
 * the first layer's columns. Call inside tf.tidy (or a gradient scope).
 */
export function headLogits(p: HeadTensors, x: tf.Tensor2D, heads: number, hidden: number): tf.Tensor3D {
  const perHead = firstLayerPerHead(x, p.w1 as tf.Tensor2D, p.b1 as tf.Tensor1D, heads, hidden);
  const z = bottleneckPerHead(perHead, p.w2 as tf.Tensor3D, p.b2 as tf.Tensor3D);
  return tf.matMul(z, weightNormalised(p.v, p.g) as tf.Tensor3D);
}

/** The second layer per head, L2-normalised: normalize(h w2 + b2) as [H, R, P] (fused like the first). */
function bottleneckPerHead(perHead: tf.Tensor3D, w2: tf.Tensor3D, b2: tf.Tensor3D): tf.Tensor3D {
  const y = tf.matMul(perHead, w2);
  const kernels = fusedKernels();
  if (kernels) return fusedBiasL2Normalize(kernels)(y, b2) as tf.Tensor3D;
  return l2Normalize(tf.add(y, b2), 2) as tf.Tensor3D;
}

function fusedBiasL2Normalize(kernels: FusedKernels): (y: tf.Tensor, bias: tf.Tensor) => tf.Tensor {
  return kernelWithGradient(
    (y, bias) => kernels.biasL2Normalize(y as tf.Tensor3D, bias as tf.Tensor3D),
    (dz, y, bias) => kernels.biasL2NormalizeGrad(dz as tf.Tensor3D, y as tf.Tensor3D, bias as tf.Tensor3D),
  );
}
