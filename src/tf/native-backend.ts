/**
 * The native backend's raw op door: tfjs-node (and tfjs-node-gpu) can run any TensorFlow op by
 * name through its NodeJSKernelBackend, which TensorFlow.js's typings do not show. Modules that
 * call TensorFlow kernels TensorFlow.js has no op for (resource variables, ResourceApplyAdam, the
 * fused kernels of fused-kernels.ts) go through here.
 */
import { tf } from './tf.ts';

/** The few members of tfjs-node's NodeJSKernelBackend used here (not in its typings). */
export interface NativeBackend {
  readonly binding: NativeBinding;
  /** True when tfjs-node-gpu found a GPU: TensorFlow then places ops on it. */
  readonly isUsingGpuDevice?: boolean;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

export interface NativeBinding {
  readonly TF_FLOAT: number;
  readonly TF_ATTR_STRING: number;
  readonly TF_ATTR_INT: number;
  readonly TF_ATTR_TYPE: number;
  readonly TF_ATTR_SHAPE: number;
  readonly TF_ATTR_BOOL: number;
}

export interface OpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: string | number | boolean | number[];
}

/** The active backend when it is native TensorFlow, else undefined. */
export function nativeBackend(): NativeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof backend.executeMultipleOutputs === 'function' && backend.binding ? (backend as NativeBackend) : undefined;
}

export function floatTypeAttr(backend: NativeBackend, name: string): OpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
}
