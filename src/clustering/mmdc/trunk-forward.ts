import { type FusedKernels, fusedKernels } from '../../tf/fused-kernels.ts';
import { tf } from '../../tf/tf.ts';
import { HEAD_BIAS, HEAD_WEIGHT, ROTATION_BIAS, ROTATION_WEIGHT, type TrunkLayout } from './trunk-layout.ts';

export type Tensors = Readonly<Record<string, tf.Tensor>>;

/** PyTorch's batch-norm epsilon, so the reference and this trunk normalise alike. */
const BN_EPSILON = 1e-5;

/** Batch moments a training-mode forward saw, per batch-norm layer, to fold into the running statistics (kept tensors: the caller disposes them). */
export interface BatchMoments {
  readonly name: string;
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
  /** Values each channel's moments were taken over (N x H x W), for the unbiased running variance. */
  readonly count: number;
}

/**
 * The trunk, functionally: images NHWC -> pooled features [N, pooledDim]. `training` normalises
 * with the batch's moments (pushed to `moments` for the caller to fold in after the step) and
 * otherwise with the running statistics in `stats`. 3x3 convolutions pad 1 pixel on every side,
 * as PyTorch's padding=1 does, so a stride-2 convolution sees the same pixels.
 */
export function trunkPooled(layout: TrunkLayout, params: Tensors, stats: Tensors, images: tf.Tensor4D, training: boolean, moments?: BatchMoments[]): tf.Tensor2D {
  const conv = (x: tf.Tensor4D, weight: string, stride: number): tf.Tensor4D => {
    const filter = params[weight] as tf.Tensor4D;
    if (filter.shape[0] === 1) return tf.conv2d(x, filter, stride, 'valid');
    // tfjs-node's gradient kernels take only 'valid' and 'same'; 'same' pads stride-2 inputs
    // asymmetrically, so the 1-pixel border is padded here and the convolution is 'valid'.
    if (stride === 1) return tf.conv2d(x, filter, 1, 'same');
    return tf.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), filter, stride, 'valid');
  };
  const kernels = fusedKernels();
  // Batch norm, then ReLU when `relu`: on native TensorFlow on the CPU one fused kernel each way
  // (batch_norm_kernels.cc); otherwise as TensorFlow.js ops (the same function).
  const bn = (x: tf.Tensor4D, name: string, relu = false): tf.Tensor4D => {
    const gamma = params[`${name}.gamma`] as tf.Tensor1D;
    const beta = params[`${name}.beta`] as tf.Tensor1D;
    if (kernels && training) return fusedBatchNormRelu(kernels, relu, name, moments)(x, gamma, beta) as tf.Tensor4D;
    if (kernels) {
      const running = { gamma, beta, mean: stats[`${name}.mean`] as tf.Tensor1D, variance: stats[`${name}.var`] as tf.Tensor1D };
      return notDifferentiable(() => kernels.batchNormReluInference(x, running, BN_EPSILON, relu), 'the eval-mode trunk')(x) as tf.Tensor4D;
    }
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (training) {
      const m = tf.moments(x, [0, 1, 2]);
      mean = m.mean;
      variance = m.variance;
      // Kept: a gradient computation disposes what its function created; the caller disposes these.
      if (moments) moments.push({ name, mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count: x.shape[0] * x.shape[1] * x.shape[2] });
    } else {
      mean = stats[`${name}.mean`];
      variance = stats[`${name}.var`];
    }
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON)));
    const y = tf.add(tf.mul(tf.sub(x, mean), scale), beta) as tf.Tensor4D;
    return relu ? tf.relu(y) : y;
  };
  let x = images;
  if (layout.trunk === 'cnn4') {
    const last = layout.widths.length - 1;
    for (let i = 0; i <= last; i++) {
      x = bn(conv(x, `conv${i}.w`, 1), `bn${i}`, true);
      // Pool after every layer but the last, whose map is averaged globally: 28 px give 14, 7, 3,
      // where a fourth 2x2 pool would keep only the top-left 2x2 of the 3x3 map.
      if (i < last) x = tf.maxPool(x, 2, 2, 'valid');
    }
  } else {
    x = bn(conv(x, 'stem.w', 1), 'stem.bn', true);
    for (let stage = 0; stage < 4; stage++) {
      for (let block = 0; block < 2; block++) {
        const p = `s${stage}b${block}`;
        const stride = stage > 0 && block === 0 ? 2 : 1;
        const y = bn(conv(bn(conv(x, `${p}.conv1.w`, stride), `${p}.bn1`, true), `${p}.conv2.w`, 1), `${p}.bn2`);
        const shortcut = params[`${p}.shortcut.w`] ? bn(conv(x, `${p}.shortcut.w`, stride), `${p}.shortcut.bn`) : x;
        x = tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
      }
    }
  }
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * A raw kernel in a customGrad whose gradient throws: run through the native op door it would
 * otherwise be invisible to the gradient tape, and a gradient through it would silently be zero.
 */
function notDifferentiable(run: () => tf.Tensor, what: string): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    void args;
    return {
      value: run(),
      gradFunc: () => {
        throw new Error(`${what} is not differentiable (it normalises with running statistics); train in training mode`);
      },
    };
  });
}

function fusedBatchNormRelu(kernels: FusedKernels, relu: boolean, name: string, moments: BatchMoments[] | undefined): (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, mean, variance] = kernels.batchNormRelu(x, gamma, beta, BN_EPSILON, relu);
    save([x, gamma, beta, mean, variance]);
    // Kept: a gradient computation disposes what its function created; the caller disposes these.
    if (moments) moments.push({ name, mean: tf.keep(tf.clone(mean)), variance: tf.keep(tf.clone(variance)), count: x.shape[0] * x.shape[1] * x.shape[2] });
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sGamma, sBeta, sMean, sVariance] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        return kernels.batchNormReluGrad(dy, { x: sx, gamma: sGamma, beta: sBeta, mean: sMean, variance: sVariance }, BN_EPSILON, relu);
      },
    };
  });
}

/** The clustering output: the projection head, L2-normalised onto the unit sphere of R^d. */
export function unitFeatures(params: Tensors, pooled: tf.Tensor2D): tf.Tensor2D {
  const z = tf.add(tf.matMul(pooled, params[HEAD_WEIGHT] as tf.Tensor2D), params[HEAD_BIAS]);
  return tf.div(z, tf.maximum(tf.norm(z, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
}

export function rotationLogits(params: Tensors, pooled: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(pooled, params[ROTATION_WEIGHT] as tf.Tensor2D), params[ROTATION_BIAS]) as tf.Tensor2D;
}
