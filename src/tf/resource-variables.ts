/**
 * TensorFlow resource variables on the native backend (tfjs-node, tfjs-node-gpu), so that an
 * optimiser can call TensorFlow's fused in-place kernels (ResourceApplyAdam) through the binding's
 * raw op door. TensorFlow.js itself has no such kernels: each elementwise op it runs allocates and
 * writes a fresh tensor, so an Adam step over a [784, 8192] matrix is 13 full passes instead of one
 * (60 ms against 14 ms a step here, docs/BENCHMARKS.md).
 *
 * On the other backends (wasm, cpu) `resourceVariablesAvailable()` is false and callers keep their
 * portable path.
 */
import { randomUUID } from 'node:crypto';
import { type NativeBackend, floatTypeAttr, nativeBackend } from './native-backend.ts';
import { tf } from './tf.ts';

/** True when the active backend is native TensorFlow and can hold resource variables. */
export function resourceVariablesAvailable(): boolean {
  return nativeBackend() !== undefined;
}

function requireNative(): NativeBackend {
  const backend = nativeBackend();
  if (!backend) throw new Error(`resource variables need the native TensorFlow backend; the active one is ${tf.getBackend()}`);
  return backend;
}

/**
 * One float32 resource variable. Its value is TensorFlow's, outside TensorFlow.js's tensor
 * bookkeeping: `read()` returns a TensorFlow.js tensor that shares the buffer (TensorFlow copies
 * it before the next in-place update while that tensor lives), `write()` hands a tensor's buffer
 * to the variable.
 */
export class ResourceVariable {
  private readonly backend = requireNative();
  private handle: tf.Tensor | undefined;

  constructor(readonly shape: readonly number[], initial?: tf.Tensor) {
    const b = this.backend.binding;
    // Worker threads share one TensorFlow runtime and its resource manager: the name must be
    // unique across the process, not only within this module instance.
    this.handle = this.backend.executeSingleOutput(
      'VarHandleOp',
      [
        { name: 'container', type: b.TF_ATTR_STRING, value: '' },
        { name: 'shared_name', type: b.TF_ATTR_STRING, value: `temi-stream/${randomUUID()}` },
        floatTypeAttr(this.backend, 'dtype'),
        { name: 'shape', type: b.TF_ATTR_SHAPE, value: [...shape] },
      ],
      [],
    );
    tf.tidy(() => this.write(initial ?? tf.zeros([...shape])));
  }

  /** The resource handle, for raw ops that take the variable itself. */
  get resource(): tf.Tensor {
    if (!this.handle) throw new Error('the resource variable was disposed');
    return this.handle;
  }

  read(): tf.Tensor {
    return this.backend.executeSingleOutput('ReadVariableOp', [floatTypeAttr(this.backend, 'dtype')], [this.resource]);
  }

  write(value: tf.Tensor): void {
    const b = this.backend.binding;
    this.backend.executeMultipleOutputs(
      'AssignVariableOp',
      [floatTypeAttr(this.backend, 'dtype'), { name: 'validate_shape', type: b.TF_ATTR_BOOL, value: true }],
      [this.resource, value],
      0,
    );
  }

  dispose(): void {
    if (!this.handle) return;
    const b = this.backend.binding;
    this.backend.executeMultipleOutputs('DestroyResourceOp', [{ name: 'ignore_lookup_error', type: b.TF_ATTR_BOOL, value: true }], [this.handle], 0);
    this.handle.dispose();
    this.handle = undefined;
  }
}

export interface AdamKernelArguments {
  /** beta1^t and beta2^t for this step t. */
  readonly beta1Power: number;
  readonly beta2Power: number;
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  /** TensorFlow adds epsilon to sqrt(v) before the bias correction (PyTorch after it). */
  readonly epsilon: number;
}

/**
 * TensorFlow's ResourceApplyAdam, in place: m and v take their moving averages of `gradient`,
 * then variable -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon), one pass.
 */
export function applyAdamInPlace(
  variable: ResourceVariable,
  firstMoment: ResourceVariable,
  secondMoment: ResourceVariable,
  gradient: tf.Tensor,
  args: AdamKernelArguments,
): void {
  const backend = requireNative();
  const b = backend.binding;
  tf.tidy(() => {
    const scalars = [args.beta1Power, args.beta2Power, args.learningRate, args.beta1, args.beta2, args.epsilon].map((x) => tf.scalar(x));
    backend.executeMultipleOutputs(
      'ResourceApplyAdam',
      [
        floatTypeAttr(backend, 'T'),
        { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false },
        { name: 'use_nesterov', type: b.TF_ATTR_BOOL, value: false },
      ],
      [variable.resource, firstMoment.resource, secondMoment.resource, ...scalars, gradient],
      0,
    );
  });
}
