/**
 * TEMI's fused CPU kernels (src/tf/native/, built by `npm run setup:tensorflow` into
 * build/native), each one pass where TensorFlow.js runs several: bias add + exact GELU + the split
 * into per-head matrices, bias add + L2 normalisation, the backward of both, the teacher's moving
 * average, and TEMI's objective (the teacher's side, the student's loss and its gradient). They
 * register into the TensorFlow that tfjs-node loaded and run through its raw op door.
 *
 * Used only on native TensorFlow running on the CPU (the kernels are CPU kernels; on a GPU
 * TensorFlow would copy every tensor across to run them). Anywhere else, or when the addon is not
 * built, `fusedKernels()` is undefined and callers keep their TensorFlow.js path, which computes the
 * same function (test/tf/fused-kernels.spec.ts holds the two together).
 *
 * TEMI_FUSED_KERNELS=off turns them off (to compare the two paths); any other value names the
 * addon file to load instead of the built one.
 */
import { nativeBackendUsesGpu } from './backends.ts';
import { nativeBackend, type NativeBackend } from './native-backend.ts';
import { staleTemiAddon, TEMI_ADDON_FILE, temiAddon, temiAddonSourcesDigest } from './temi-addon.ts';
import { tf } from './tf.ts';

export const FUSED_KERNELS_FILE = TEMI_ADDON_FILE;

/** The digest of src/tf/native that build-kernels.sh writes beside the addon. */
export function nativeSourcesDigest(): string {
  return temiAddonSourcesDigest();
}

export interface FusedKernels {
  /** gelu(pre + bias) with its columns split into `heads` matrices: [R, H P] -> [H, R, P]. */
  biasGeluSplit(pre: tf.Tensor2D, bias: tf.Tensor1D, heads: number): tf.Tensor3D;
  /** The gradients of biasGeluSplit with respect to pre and bias, given the one of its output. */
  biasGeluSplitGrad(dact: tf.Tensor3D, pre: tf.Tensor2D, bias: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D];
  /** Rows of y + bias scaled to unit L2 norm (F.normalize): y [H, R, P], bias [H, 1, P]. */
  biasL2Normalize(y: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D;
  /** The gradients of biasL2Normalize with respect to y and bias, given the one of its output. */
  biasL2NormalizeGrad(dz: tf.Tensor3D, y: tf.Tensor3D, bias: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D];
  /** momentum average + (1 - momentum) value, elementwise. */
  movingAverage(average: tf.Tensor, value: tf.Tensor, momentum: number): tf.Tensor;
  /** temi-loss.ts's teacherTargets: [log probabilities, updated marginal, pair weights]. */
  teacherTargets(logits: tf.Tensor3D, marginal: tf.Tensor3D, temperature: number, momentum: number): [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D];
  /** temi-loss.ts's temiHeadLosses, from the log marginal: [H]. */
  temiLoss(loss: TemiLossInputs): tf.Tensor1D;
  /** The gradient of temiLoss with respect to the student logits, given the one of its output. */
  temiLossGrad(dlosses: tf.Tensor1D, loss: TemiLossInputs): tf.Tensor3D;
  /** Training-mode batch norm over the last axis, then ReLU if asked: [y, batch mean, batch (biased) variance]. */
  batchNormRelu(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu: boolean): [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
  /** Its gradients [dx, dgamma, dbeta], through the batch's moments, given the one of y. */
  batchNormReluGrad(dy: tf.Tensor, saved: BatchNormSaved, epsilon: number, relu: boolean): [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
  /** Eval-mode batch norm with given (running) moments, then ReLU if asked. Not differentiable. */
  batchNormReluInference(x: tf.Tensor, parameters: BatchNormParameters, epsilon: number, relu: boolean): tf.Tensor;
}

/** A batch norm's affine parameters and the moments it normalises with. */
export interface BatchNormParameters {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
}

/** What batchNormRelu's gradient reads: its input, parameters and the moments it took. */
export interface BatchNormSaved extends BatchNormParameters {
  readonly x: tf.Tensor;
}

export interface TemiLossInputs {
  readonly studentLogits: tf.Tensor3D;
  readonly teacherLogProbabilities: tf.Tensor3D;
  readonly logMarginal: tf.Tensor3D;
  readonly pairWeight: tf.Tensor1D;
  readonly beta: number;
  readonly studentTemperature: number;
}

/** Why the kernels are not in use, or undefined when they are (or have not been asked for yet). */
let unavailableReason: string | undefined;
let registered: boolean | undefined;

function loadAddon(): boolean {
  const loaded = temiAddon();
  if (!loaded.exports) return fail(loaded.reason);
  const error = loaded.exports.register();
  return error === null ? true : fail(`${process.env.TEMI_FUSED_KERNELS || FUSED_KERNELS_FILE}: ${error}`);
}

/** Why the addon at `file` does not match the sources here, or undefined when it does. */
export function staleBuild(file: string): string | undefined {
  return staleTemiAddon(file);
}

function fail(reason: string): false {
  unavailableReason = reason;
  return false;
}

function cpuBackend(): NativeBackend | undefined {
  return nativeBackendUsesGpu() ? undefined : nativeBackend();
}

/** The kernels bound to one backend instance (a worker thread has its own). */
let bound: { backend: NativeBackend; kernels: FusedKernels } | undefined;

/** The fused kernels when the active backend can run them, else undefined. */
export function fusedKernels(): FusedKernels | undefined {
  const backend = cpuBackend();
  if (!backend) return undefined;
  registered ??= loadAddon();
  if (!registered) return undefined;
  if (bound?.backend !== backend) bound = { backend, kernels: bindKernels(backend) };
  return bound.kernels;
}

function bindKernels(backend: NativeBackend): FusedKernels {
  const b = backend.binding;
  return {
    biasGeluSplit: (pre, bias, heads) =>
      backend.executeSingleOutput('TemiStreamBiasGeluSplit', [{ name: 'heads', type: b.TF_ATTR_INT, value: heads }], [pre, bias]) as tf.Tensor3D,
    biasGeluSplitGrad: (dact, pre, bias) =>
      backend.executeMultipleOutputs('TemiStreamBiasGeluSplitGrad', [], [dact, pre, bias], 2) as [tf.Tensor2D, tf.Tensor1D],
    biasL2Normalize: (y, bias) => backend.executeSingleOutput('TemiStreamBiasL2Normalize', [], [y, bias]) as tf.Tensor3D,
    biasL2NormalizeGrad: (dz, y, bias) =>
      backend.executeMultipleOutputs('TemiStreamBiasL2NormalizeGrad', [], [dz, y, bias], 2) as [tf.Tensor3D, tf.Tensor3D],
    // Scalars are inputs, not attributes: TensorFlow caches a kernel per attribute value.
    movingAverage: (average, value, momentum) =>
      tf.tidy(() => backend.executeSingleOutput('TemiStreamMovingAverage', [], [average, value, tf.scalar(momentum)])),
    teacherTargets: (logits, marginal, temperature, momentum) =>
      tf.tidy(
        () => backend.executeMultipleOutputs('TemiStreamTeacherTargets', [], [logits, marginal, tf.scalar(temperature), tf.scalar(momentum)], 3) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D],
      ),
    temiLoss: (loss) => tf.tidy(() => backend.executeSingleOutput('TemiStreamTemiLoss', [], lossOperands(loss)) as tf.Tensor1D),
    temiLossGrad: (dlosses, loss) => tf.tidy(() => backend.executeSingleOutput('TemiStreamTemiLossGrad', [], [dlosses, ...lossOperands(loss)]) as tf.Tensor3D),
    batchNormRelu: (x, gamma, beta, epsilon, relu) =>
      tf.tidy(
        () =>
          backend.executeMultipleOutputs('TemiStreamBatchNormRelu', [reluAttr(b, relu)], [x, gamma, beta, tf.scalar(epsilon)], 3) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D],
      ),
    batchNormReluGrad: (dy, { x, gamma, beta, mean, variance }, epsilon, relu) =>
      tf.tidy(
        () =>
          backend.executeMultipleOutputs('TemiStreamBatchNormReluGrad', [reluAttr(b, relu)], [dy, x, gamma, beta, mean, variance, tf.scalar(epsilon)], 3) as [
            tf.Tensor,
            tf.Tensor1D,
            tf.Tensor1D,
          ],
      ),
    batchNormReluInference: (x, { gamma, beta, mean, variance }, epsilon, relu) =>
      tf.tidy(() => backend.executeSingleOutput('TemiStreamBatchNormReluInference', [reluAttr(b, relu)], [x, gamma, beta, mean, variance, tf.scalar(epsilon)])),
  };
}

function reluAttr(b: NativeBackend['binding'], relu: boolean): { name: string; type: number; value: number } {
  return { name: 'relu', type: b.TF_ATTR_INT, value: relu ? 1 : 0 };
}

function lossOperands(l: TemiLossInputs): tf.Tensor[] {
  return [l.studentLogits, l.teacherLogProbabilities, l.logMarginal, l.pairWeight, tf.scalar(l.beta), tf.scalar(l.studentTemperature)];
}

/** Which path TEMI's heads take on the active backend, for benchmarks and logs. */
export function fusedKernelsStatus(): string {
  if (!cpuBackend()) return `not used on ${tf.getBackend()}${nativeBackend() ? ' (GPU)' : ''}`;
  return fusedKernels() ? 'fused CPU kernels' : `not available: ${unavailableReason ?? 'unknown'}`;
}
