/**
 * Loading the model an embed stage runs: a TF.js LayersModel or GraphModel (model.json + weight
 * shards, via `file://` on every backend) or a TensorFlow SavedModel directory (native backend
 * only). Every failure becomes one TemiError naming the file and what to do, because it surfaces
 * as "the stage failed to start".
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TemiError, reasonOf } from '../runtime/errors.ts';
import { nativePackageSpecifier } from '../tf/backends.ts';
import { registerFileSystemRouter } from '../tf/file-io-handler.ts';
import { tf } from '../tf/tf.ts';

export type ModelFormat = 'layers' | 'graph' | 'saved-model';

/** What tfjs-node's loadSavedModel returns (typed here: the package is optional). */
export interface SavedModel extends tf.InferenceModel {
  dispose(): void;
}

export type LoadedModel =
  | { readonly format: 'layers'; readonly model: tf.LayersModel }
  | { readonly format: 'graph'; readonly model: tf.GraphModel }
  | { readonly format: 'saved-model'; readonly model: SavedModel };

export const MODEL_LOAD_FAILED = 'TS_ERR_EMBED_MODEL_LOAD';

export async function loadModelFromPath(location: string, format: ModelFormat | 'auto'): Promise<LoadedModel> {
  const resolved = await resolveModelLocation(location, format);
  try {
    switch (resolved.format) {
      case 'layers':
        registerFileSystemRouter();
        return { format: 'layers', model: await tf.loadLayersModel(`file://${resolved.path}`) };
      case 'graph':
        registerFileSystemRouter();
        return { format: 'graph', model: await tf.loadGraphModel(`file://${resolved.path}`) };
      case 'saved-model':
        return { format: 'saved-model', model: await loadSavedModel(resolved.path) };
    }
  } catch (error) {
    if (error instanceof TemiError) throw error;
    throw new TemiError(MODEL_LOAD_FAILED, `cannot load the ${resolved.format} model: ${reasonOf(error)}`, { where: resolved.path, cause: error });
  }
}

export async function loadModelFromArtifacts(artifacts: tf.io.ModelArtifacts, where: string): Promise<LoadedModel> {
  try {
    return { format: 'layers', model: await tf.loadLayersModel(tf.io.fromMemory(artifacts)) };
  } catch (error) {
    throw new TemiError(MODEL_LOAD_FAILED, `cannot load the model: ${reasonOf(error)}`, { where, cause: error });
  }
}

/** Finds model.json / saved_model.pb and the format, from the path and (for `auto`) the files. */
export async function resolveModelLocation(location: string, format: ModelFormat | 'auto'): Promise<{ path: string; format: ModelFormat }> {
  const kind = await pathKind(location);
  if (kind === 'missing') throw new TemiError(MODEL_LOAD_FAILED, 'model path does not exist', { where: location });
  if (kind === 'directory') {
    if (await pathKind(path.join(location, 'saved_model.pb')) === 'file' && (format === 'auto' || format === 'saved-model')) {
      return { path: location, format: 'saved-model' };
    }
    if (format === 'saved-model') throw new TemiError(MODEL_LOAD_FAILED, 'format is "saved-model" but the directory has no saved_model.pb', { where: location });
    const modelJson = path.join(location, 'model.json');
    if (await pathKind(modelJson) !== 'file') {
      throw new TemiError(MODEL_LOAD_FAILED, 'the directory has neither model.json (TF.js) nor saved_model.pb (SavedModel)', { where: location });
    }
    location = modelJson;
  } else if (format === 'saved-model') {
    throw new TemiError(MODEL_LOAD_FAILED, 'format "saved-model" takes the SavedModel directory, not a file', { where: location });
  }
  return { path: location, format: format === 'auto' ? await detectJsonFormat(location) : format };
}

async function detectJsonFormat(modelJsonPath: string): Promise<'layers' | 'graph'> {
  let json: { format?: unknown; modelTopology?: Record<string, unknown> };
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (error) {
    throw new TemiError(MODEL_LOAD_FAILED, `cannot read model.json: ${reasonOf(error)}`, { where: modelJsonPath, cause: error });
  }
  if (json.format === 'layers-model') return 'layers';
  if (json.format === 'graph-model') return 'graph';
  const topology = json.modelTopology ?? {};
  if ('model_config' in topology || 'class_name' in topology) return 'layers';
  if ('node' in topology) return 'graph';
  throw new TemiError(MODEL_LOAD_FAILED, 'cannot tell whether model.json is a LayersModel or a GraphModel; set model.format', { where: modelJsonPath });
}

export async function loadSavedModel(dir: string): Promise<SavedModel> {
  if (tf.getBackend() !== 'tensorflow') {
    throw new TemiError(MODEL_LOAD_FAILED, `a SavedModel runs only on the native TensorFlow backend (backend "tensorflow" or "tensorflow-gpu"; now "${tf.getBackend()}"); convert it with tensorflowjs_converter to use wasm or cpu`, {
      where: dir,
    });
  }
  // The native package is optional, so it is imported by a name the compiler does not resolve.
  // It is already loaded (the backend is active), so this returns the same module instance.
  let lastError: unknown;
  // The package that registered the backend first: importing the other would load a second libtensorflow.
  const loaded = nativePackageSpecifier();
  for (const specifier of [...(loaded ? [loaded] : []), '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as string[]) {
    let native: { node: { loadSavedModel(dir: string, tags?: string[], signature?: string): Promise<SavedModel> } };
    try {
      native = await import(specifier);
    } catch (error) {
      lastError = error;
      continue;
    }
    return native.node.loadSavedModel(dir);
  }
  throw new TemiError(MODEL_LOAD_FAILED, `the native TensorFlow package cannot be imported: ${reasonOf(lastError)}`, { where: dir, cause: lastError });
}

async function pathKind(p: string): Promise<'file' | 'directory' | 'missing'> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}
