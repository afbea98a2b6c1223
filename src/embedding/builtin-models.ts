import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileSystemModelHandler } from '../tf/file-io-handler.ts';
import type { tf } from '../tf/tf.ts';
import { INCEPTION_V3_FEATURE_LAYER, INCEPTION_V3_INPUT_SIZE, MOBILENET_V2_FEATURE_LAYER, MOBILENET_V2_INPUT_SIZE, inceptionV3Artifacts, mobileNetV2Artifacts } from './nsfwjs-models.ts';

export interface BuiltinModel {
  readonly description: string;
  /** Layer whose output is the embedding. */
  readonly outputLayer: string;
  readonly inputSize: number;
  readonly channels: number;
  /** What the decode stage must produce (its preset of the same name does this). */
  readonly inputRange: string;
  /** Directory name under the model cache. */
  readonly cacheName: string;
  artifacts(): tf.io.ModelArtifacts;
}

export const BUILTIN_MODELS = {
  'mobilenet-v2': {
    description: 'MobileNetV2 224 px from the nsfwjs package (TF.js Keras weights); embedding = global average pool, 1280-d.',
    outputLayer: MOBILENET_V2_FEATURE_LAYER,
    inputSize: MOBILENET_V2_INPUT_SIZE,
    channels: 3,
    inputRange: 'RGB scaled to [0, 1]',
    cacheName: 'mobilenet_v2',
    artifacts: mobileNetV2Artifacts,
  },
  'inception-v3': {
    description: 'InceptionV3 299 px from the nsfwjs package (TF.js Keras weights); embedding = global average pool, 2048-d. About 19x the compute of mobilenet-v2.',
    outputLayer: INCEPTION_V3_FEATURE_LAYER,
    inputSize: INCEPTION_V3_INPUT_SIZE,
    channels: 3,
    inputRange: 'RGB scaled to [0, 1]',
    cacheName: 'inception_v3',
    artifacts: inceptionV3Artifacts,
  },
} as const satisfies Record<string, BuiltinModel>;

export type BuiltinModelName = keyof typeof BUILTIN_MODELS;
export const BUILTIN_MODEL_NAMES = Object.keys(BUILTIN_MODELS) as BuiltinModelName[];

/** Default model cache, beside the project (gitignored). */
export function defaultModelCacheDir(): string {
  return path.resolve('.cache', 'models');
}

/**
 * Writes a built-in model as model.json + weights.bin under the cache (once), so it can be loaded
 * like any converted model with `model.path` or `file://`, inspected, or used by other tools.
 * Returns the model.json path.
 */
export async function exportBuiltinModel(name: BuiltinModelName, cacheDir = defaultModelCacheDir()): Promise<string> {
  const model = BUILTIN_MODELS[name];
  const dir = path.join(cacheDir, model.cacheName);
  const modelJson = path.join(dir, 'model.json');
  try {
    await access(modelJson);
    return modelJson;
  } catch {
    // not exported yet
  }
  await fileSystemModelHandler(dir).save!(model.artifacts());
  return modelJson;
}
