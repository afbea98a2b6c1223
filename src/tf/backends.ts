/**
 * Choosing the TensorFlow.js backend at start-up. The native backends (tfjs-node, tfjs-node-gpu)
 * are optional packages and their binding may be missing or broken on a given machine, so every
 * backend is loaded through one door that either leaves it active or says why it cannot.
 *
 * Speed order on CPU (dense training step, see docs/NATIVE_TENSORFLOW.md): native TensorFlow is
 * one to two orders of magnitude faster than wasm, which is several times faster than the pure-JS
 * cpu backend.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TemiError } from '../runtime/errors.ts';
import { registerFileSystemRouter } from './file-io-handler.ts';
import { tf } from './tf.ts';
import { wasmFilesDirectory } from './wasm-files.ts';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Fastest first: the order `auto` tries them in. */
export const BACKEND_PREFERENCE: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendSelection {
  backend: BackendName;
  skipped: { backend: BackendName; reason: string }[];
}

export const BACKEND_UNAVAILABLE = 'TS_ERR_BACKEND_UNAVAILABLE';

/** The engine name both tfjs-node and tfjs-node-gpu register under. */
const NATIVE_ENGINE_NAME = 'tensorflow';

const SETUP_HINT: Record<string, string> = {
  '@tensorflow/tfjs-node': 'run `npm run setup:tensorflow` (see docs/NATIVE_TENSORFLOW.md)',
  '@tensorflow/tfjs-node-gpu': 'see "GPU" in docs/NATIVE_TENSORFLOW.md',
};

/**
 * Where @tensorflow/tfjs-node-gpu comes from: by default the package in node_modules; with
 * TEMI_TFJS_NODE_GPU set, the package directory it names (what `npm run check:gpu` provisions
 * under .cache/gpu, so the shared node_modules is left as it is).
 */
function gpuPackageSpecifier(): string {
  const dir = process.env.TEMI_TFJS_NODE_GPU;
  return dir ? pathToFileURL(path.join(path.resolve(dir), 'dist', 'index.js')).href : '@tensorflow/tfjs-node-gpu';
}

let nativeSpecifier: string | undefined;

/**
 * The module specifier of the native package whose backend is registered (tfjs-node or
 * tfjs-node-gpu), for code that needs that package's own API (loadSavedModel): importing the
 * other one would load a second libtensorflow into the process.
 */
export function nativePackageSpecifier(): string | undefined {
  return nativeSpecifier;
}

/** Loads, registers and activates one backend; throws TS_ERR_BACKEND_UNAVAILABLE with the reason. */
export async function loadBackend(name: BackendName): Promise<void> {
  registerFileSystemRouter();
  switch (name) {
    case 'tensorflow-gpu':
      await importNative(name, '@tensorflow/tfjs-node-gpu', gpuPackageSpecifier());
      await activate(name, NATIVE_ENGINE_NAME);
      if (!nativeBackendUsesGpu()) {
        throw unavailable(name, '@tensorflow/tfjs-node-gpu loaded but TensorFlow found no usable GPU (check the CUDA 12 libraries and the driver; see docs/NATIVE_TENSORFLOW.md)');
      }
      return;
    case 'tensorflow':
      // tfjs-node-gpu (tried first by auto) registers the same 'tensorflow' backend, running on
      // the CPU when it finds no GPU. Importing tfjs-node on top would add a second file:// router
      // and make every file:// URL ambiguous to tf.io, so an already registered one is reused.
      if (!(NATIVE_ENGINE_NAME in tf.engine().registryFactory)) await importNative(name, '@tensorflow/tfjs-node');
      await activate(name, NATIVE_ENGINE_NAME);
      return;
    case 'wasm':
      await prepareWasm();
      await activate(name, 'wasm');
      return;
    case 'cpu':
      await activate(name, 'cpu');
      return;
    default:
      throw new TemiError('TS_ERR_BACKEND_UNKNOWN', `unknown backend "${String(name)}"; expected one of ${BACKEND_PREFERENCE.join(', ')} or auto`);
  }
}

/**
 * Activates the requested backend, or with `auto` the fastest one that works here. An explicit
 * choice that cannot load throws (the user asked for it); `auto` only throws if even cpu fails.
 */
export async function selectBackend(
  preference: 'auto' | BackendName,
  log: (msg: string) => void = () => {},
): Promise<BackendSelection> {
  if (preference !== 'auto') {
    await loadBackend(preference);
    log(`TensorFlow.js backend: ${preference} (requested)`);
    return { backend: preference, skipped: [] };
  }
  const skipped: BackendSelection['skipped'] = [];
  for (const candidate of BACKEND_PREFERENCE) {
    try {
      await loadBackend(candidate);
    } catch (error) {
      if (!(error instanceof TemiError) || error.code !== BACKEND_UNAVAILABLE) throw error;
      skipped.push({ backend: candidate, reason: String(error.details?.reason ?? error.message) });
      continue;
    }
    log(describeSelection(candidate, skipped));
    return { backend: candidate, skipped };
  }
  throw new TemiError(BACKEND_UNAVAILABLE, `no TensorFlow.js backend could be loaded: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`, { details: { skipped } });
}

/** One line for the log: what was chosen and why each faster backend was passed over. */
export function describeSelection(chosen: BackendName, skipped: BackendSelection['skipped']): string {
  const line = `TensorFlow.js backend: ${chosen} (auto)`;
  if (skipped.length === 0) return `${line}, the fastest available`;
  return `${line}; skipped ${skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}`;
}

/**
 * Process settings native TensorFlow reads once, when it loads. Must be set before the library
 * loads, and on the main thread: a worker's process.env is its own copy, which TensorFlow never
 * reads. Each is left alone when the user has set it.
 * - TF_CPP_MIN_LOG_LEVEL=1: TensorFlow's C++ INFO lines (oneDNN, CPU features) go straight to
 *   stderr and would break up structured logs; warnings and errors still come through.
 * - TF_CPU_ALLOCATOR_USE_BFC=true: host tensors come from TensorFlow's pooling (best-fit with
 *   coalescing) allocator instead of malloc. Eager execution allocates a fresh output for every
 *   op; a TEMI step makes dozens of 16-26 MB tensors, which malloc serves with fresh mmap'd pages
 *   (a page fault per 4 KiB, zeroed, every time). Measured on the 2-core dev machine: TEMI
 *   training +40-60% anchors/s (docs/BENCHMARKS.md). The pool keeps what it grew to.
 * - TF_ENABLE_ONEDNN_OPTS=1: TensorFlow turns its oneDNN kernels on by itself only on CPUs with
 *   AVX-512 VNNI or newer; elsewhere (AVX2 machines, AMD's Zen 2 among them) MatMul runs on
 *   Eigen built for plain AVX, without FMA, at about half the speed. Measured on a 2-core Zen 2:
 *   TEMI training 524 -> 803 anchors/s (docs/BENCHMARKS.md, "On an AVX2 machine").
 */
export function applyNativeProcessSettings(): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  process.env.TF_CPU_ALLOCATOR_USE_BFC ??= 'true';
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
}

async function importNative(name: BackendName, packageName: string, specifier: string = packageName): Promise<void> {
  applyNativeProcessSettings();
  // A string the compiler cannot resolve: the native packages are optional and may be absent.
  try {
    await import(specifier);
  } catch (error) {
    throw unavailable(name, reasonForImportFailure(packageName, error), error);
  }
  nativeSpecifier = specifier;
}

function reasonForImportFailure(packageName: string, error: unknown): string {
  const hint = SETUP_HINT[packageName];
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(packageName)) {
    return `${packageName} is not installed; ${hint}`;
  }
  if (message.includes('tfjs_binding.node')) {
    return `${packageName} is installed but its native binding is missing; ${hint}`;
  }
  return `${packageName} failed to load: ${firstLine(message)}; ${hint}`;
}

let wasmPathsSet = false;

async function prepareWasm(): Promise<void> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    throw unavailable('wasm', `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(String(error))}`, error);
  }
  // Threads stay off: tfjs-backend-wasm reports no multithread support under Node, and forcing
  // the flag fails because its Emscripten glue starts pthread workers from blob: URLs, which
  // Node's Worker rejects (ERR_WORKER_PATH). SIMD is detected and used.
  if (!wasmPathsSet) {
    wasm.setWasmPaths(wasmFilesDirectory());
    wasmPathsSet = true;
  }
}

async function activate(name: BackendName, engineName: string): Promise<void> {
  if (!(engineName in tf.engine().registryFactory)) {
    throw unavailable(name, `no TensorFlow.js backend named "${engineName}" is registered`);
  }
  let activated: boolean;
  try {
    activated = await tf.setBackend(engineName);
  } catch (error) {
    throw unavailable(name, `initialising "${engineName}" failed: ${firstLine(String(error))}`, error);
  }
  if (!activated) throw unavailable(name, `initialising "${engineName}" failed (TensorFlow.js logged the cause above)`);
  await tf.ready();
}

/** Whether the active backend is native TensorFlow placing ops on a GPU. */
export function nativeBackendUsesGpu(): boolean {
  return (tf.backend() as { isUsingGpuDevice?: unknown }).isUsingGpuDevice === true;
}

function unavailable(backend: BackendName, reason: string, cause?: unknown): TemiError {
  return new TemiError(BACKEND_UNAVAILABLE, `backend ${backend} is unavailable: ${reason}`, { details: { backend, reason }, cause });
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
