/**
 * The temi_kernels addon (src/tf/native/, built by `npm run setup:tensorflow` into build/native):
 * TEMI's fused CPU kernels (fused-kernels.ts) and a SavedModel session that takes its input
 * without a copy (native-session.ts). Loaded once per thread, and only when built from the
 * sources present.
 *
 * TEMI_FUSED_KERNELS=off turns the addon off (both uses; to compare with TensorFlow.js's own
 * paths); any other value names the addon file to load instead of the built one.
 */
import { fileURLToPath } from 'node:url';
import { loadNativeAddon, sourcesDigest, staleAddon, type LoadedAddon, type NativeAddonSpec } from '../native/native-addon.ts';

export const TEMI_ADDON_FILE = fileURLToPath(new URL('../../build/native/temi_kernels.node', import.meta.url));

const SPEC: NativeAddonSpec = {
  file: TEMI_ADDON_FILE,
  sourcesDir: fileURLToPath(new URL('./native/', import.meta.url)),
  sourceNames: /\.(cc|h)$/,
  setupCommand: 'npm run setup:tensorflow',
  envVariable: 'TEMI_FUSED_KERNELS',
};

/** An open SavedModel session (opaque). */
export type SessionHandle = { readonly __session: unique symbol };

export interface TemiAddon {
  /** Registers the fused kernels into the loaded TensorFlow; null, or why not. */
  register(): string | null;
  /** Loads a SavedModel (its `tag` meta graph) as a session fed at node `input`, answering `output`. Throws TS_ERR_NATIVE_SESSION. */
  openSession(exportDir: string, tag: string, input: string, output: string): SessionHandle;
  /** One run: `input` (shape `dims`) is the input tensor itself; the output comes back as a new array. */
  runSession(session: SessionHandle, input: Float32Array, dims: readonly number[]): Float32Array;
  closeSession(session: SessionHandle): void;
  /** A zeroed Float32Array starting on a 64-byte boundary: TensorFlow takes it without copying. */
  alignedFloat32Array(length: number): Float32Array;
  /** A zeroed Float32Array in page-locked memory registered with CUDA; null without a CUDA runtime loaded. */
  pinnedFloat32Array(length: number): Float32Array | null;
  isAligned(array: ArrayBufferView): boolean;
}

let loaded: LoadedAddon<TemiAddon> | undefined;

/** The addon's exports, or why it is not in use (memoised per thread). */
export function temiAddon(): LoadedAddon<TemiAddon> {
  return (loaded ??= loadNativeAddon<TemiAddon>(SPEC));
}

/** The digest of src/tf/native that build-kernels.sh writes beside the addon. */
export function temiAddonSourcesDigest(): string {
  return sourcesDigest(SPEC);
}

/** Why the addon at `file` does not match the sources here, or undefined when it does. */
export function staleTemiAddon(file: string): string | undefined {
  return staleAddon(SPEC, file);
}
