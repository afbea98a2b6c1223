/**
 * A SavedModel run as one TensorFlow session through our addon (src/tf/native/session_runner.cc)
 * rather than tfjs-node's `loadSavedModel`: the caller's Float32Array is the input tensor itself.
 * tfjs-node copies every input into a freshly allocated TensorFlow tensor first; for a batch of
 * images that copy, into pages the kernel maps afresh each time, cost as much as the forward pass
 * on a GPU (docs/BENCHMARKS.md, "Second GPU run").
 *
 * Native TensorFlow only (CPU or GPU). Anywhere else, or when the addon is not built,
 * openNativeSession says why not and callers keep tfjs-node's path.
 */
import { TemiError } from '../runtime/errors.ts';
import { nativeBackend } from './native-backend.ts';
import { temiAddon, type SessionHandle, type TemiAddon } from './temi-addon.ts';

/** The code of every error from the addon's session (the addon throws it too). */
export const NATIVE_SESSION_FAILED = 'TS_ERR_NATIVE_SESSION';

export interface NativeSession {
  /**
   * One run on `input` of shape `dims`; the output, flattened, in a new array. Synchronous. Any
   * Float32Array works; TensorFlow takes one from `tensorBuffer` as it is and copies the others.
   */
  run(input: Float32Array, dims: readonly number[]): Float32Array;
  dispose(): void;
}

export interface SessionNodes {
  /** The meta graph's tag, e.g. "serve". */
  readonly tag: string;
  /** Graph node names, "name" or "name:index". */
  readonly input: string;
  readonly output: string;
}

/**
 * Opens the SavedModel in `dir` (read whole at open; the directory may go afterwards), or says why
 * the addon's session cannot be used here. Errors from TensorFlow itself (a graph it refuses)
 * throw, with code TS_ERR_NATIVE_SESSION.
 */
export function openNativeSession(dir: string, nodes: SessionNodes): NativeSession | { unavailable: string } {
  if (!nativeBackend()) return { unavailable: 'not on native TensorFlow' };
  const loaded = temiAddon();
  if (!loaded.exports) return { unavailable: loaded.reason };
  const addon: TemiAddon = loaded.exports;
  let handle: SessionHandle | undefined = addon.openSession(dir, nodes.tag, nodes.input, nodes.output);
  return {
    run: (input, dims) => {
      if (!handle) throw new TemiError(NATIVE_SESSION_FAILED, 'the native session was disposed; open another');
      return addon.runSession(handle, input, dims);
    },
    dispose: () => {
      if (handle) addon.closeSession(handle);
      handle = undefined;
    },
  };
}

/**
 * A zeroed Float32Array that a native session takes as its input without copying (64-byte
 * aligned, which TensorFlow requires of a caller's buffer), where the addon is built; a plain one
 * elsewhere. It needs no TensorFlow, so a thread that only packs batches for another can make
 * them; a transfer to another thread keeps its alignment.
 */
export function tensorBuffer(length: number): Float32Array {
  return temiAddon().exports?.alignedFloat32Array(length) ?? new Float32Array(length);
}
