/**
 * `file://` model URLs on every backend. @tensorflow/tfjs-node brings its own file-system router,
 * but it is optional here: on the wasm and cpu backends plain @tensorflow/tfjs only knows http(s)
 * and browser storage, so `tf.loadLayersModel('file://...')` would fail. This handler reads and
 * writes the same layout the converter and tfjs-node use: model.json + binary weight shards.
 *
 * URL forms, as in tfjs-node: load takes the model.json path (a directory means its model.json);
 * save takes a directory and writes model.json + weights.bin there. Everything after `file://` is
 * a file-system path, so `file:///abs/dir` and `file://relative/dir` both work.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TemiError } from '../runtime/errors.ts';
import { tf } from './tf.ts';

type IOHandler = tf.io.IOHandler;
type ModelArtifacts = tf.io.ModelArtifacts;
type ModelJSON = tf.io.ModelJSON;
type WeightsManifestEntry = tf.io.WeightsManifestEntry;

const FILE_SCHEME = 'file://';
const MODEL_JSON = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** A load + save handler for one `file://` location (path without the scheme). */
export function fileSystemModelHandler(location: string): IOHandler {
  return {
    load: () => loadModelArtifacts(location),
    save: (artifacts) => saveModelArtifacts(location, artifacts),
  };
}

/**
 * The router given to tf.io: claims `file://` URLs unless tfjs-node is loaded. tfjs-node
 * registers its own file router together with its 'tensorflow' backend, and tf.io refuses a URL
 * that two routers claim, so this one steps aside whenever that backend is registered.
 */
export function fileSystemRouter(url: string | string[]): IOHandler | null {
  if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) return null;
  if (nativeFileRouterIsRegistered()) return null;
  return fileSystemModelHandler(url.slice(FILE_SCHEME.length));
}

let registered = false;

/** Registers {@link fileSystemRouter} for loading and saving, once per process. */
export function registerFileSystemRouter(): void {
  if (registered) return;
  // tf.io's IORouter type leaves out null, yet its registry reads null as "not my URL".
  const router = fileSystemRouter as (url: string | string[]) => IOHandler;
  tf.io.registerLoadRouter(router);
  tf.io.registerSaveRouter(router);
  registered = true;
}

function nativeFileRouterIsRegistered(): boolean {
  return 'tensorflow' in tf.engine().registryFactory;
}

async function loadModelArtifacts(location: string): Promise<ModelArtifacts> {
  const modelPath = (await isDirectory(location)) ? path.join(location, MODEL_JSON) : location;
  const modelJson = await readModelJson(modelPath);
  const modelDir = path.dirname(modelPath);
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: WeightsManifestEntry[] = [];
    const shards: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const shardPath of group.paths) shards.push(await readShard(path.join(modelDir, shardPath), modelPath));
    }
    return [specs, tf.io.concatenateArrayBuffers(shards)];
  });
}

async function readModelJson(modelPath: string): Promise<ModelJSON> {
  let text: string;
  try {
    text = await readFile(modelPath, 'utf8');
  } catch (error) {
    throw new TemiError('TS_ERR_MODEL_FILE_NOT_FOUND', 'cannot read the model file (expected a model.json written by tfjs or the TensorFlow.js converter)', { where: modelPath, cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TemiError('TS_ERR_MODEL_FILE_INVALID', `model.json is not valid JSON: ${(error as Error).message}`, { where: modelPath, cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || !('modelTopology' in parsed)) {
    throw new TemiError('TS_ERR_MODEL_FILE_INVALID', 'model.json has no "modelTopology"; is this a TensorFlow.js model?', { where: modelPath });
  }
  return parsed as ModelJSON;
}

async function readShard(shardPath: string, modelPath: string): Promise<ArrayBuffer> {
  try {
    const bytes = await readFile(shardPath);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (error) {
    throw new TemiError('TS_ERR_MODEL_FILE_NOT_FOUND', `weight shard listed in ${path.basename(modelPath)} cannot be read`, { where: shardPath, details: { model: modelPath }, cause: error });
  }
}

async function saveModelArtifacts(directory: string, artifacts: ModelArtifacts): Promise<tf.io.SaveResult> {
  const topology = artifacts.modelTopology;
  if (topology === undefined || topology instanceof ArrayBuffer) {
    throw new TemiError('TS_ERR_MODEL_SAVE_UNSUPPORTED', 'only models with a JSON topology can be saved as model.json', { where: directory });
  }
  await mkdir(directory, { recursive: true });
  const weightData = artifacts.weightData === undefined ? undefined : tf.io.concatenateArrayBuffers(artifacts.weightData);
  const modelJson: ModelJSON = {
    modelTopology: topology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    signature: artifacts.signature,
    userDefinedMetadata: artifacts.userDefinedMetadata,
    modelInitializer: artifacts.modelInitializer,
    initializerSignature: artifacts.initializerSignature,
    trainingConfig: artifacts.trainingConfig,
    weightsManifest: [{ paths: weightData === undefined ? [] : [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  // Weights first, model.json last, each by rename: a reader that sees the new model.json also
  // sees the weights it points at, and a crash never leaves a truncated file under either name.
  if (weightData !== undefined) await writeAtomically(path.join(directory, WEIGHTS_FILE), new Uint8Array(weightData));
  await writeAtomically(path.join(directory, MODEL_JSON), JSON.stringify(modelJson));
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

async function writeAtomically(filePath: string, content: string | Uint8Array): Promise<void> {
  const partial = `${filePath}.${process.pid}.partial`;
  await writeFile(partial, content);
  await rename(partial, filePath);
}

async function isDirectory(location: string): Promise<boolean> {
  try {
    return (await stat(location)).isDirectory();
  } catch {
    return false;
  }
}
