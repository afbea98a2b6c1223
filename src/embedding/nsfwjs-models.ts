/**
 * Pretrained MobileNetV2 (224 px) and InceptionV3 (299 px), ImageNet-initialised and fine-tuned by
 * the nsfwjs project, taken from the `nsfwjs` npm package, which ships TF.js Keras weights wrapped
 * as JavaScript modules (the model.json object and base64 strings of uint8-quantised weights). We
 * read them straight into tf.io.fromMemory, so nothing is downloaded, and the classifier head is
 * simply not used: the embedding is the global-average-pool output (1280 / 2048 values).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { TemiError } from '../runtime/errors.ts';
import type { tf } from '../tf/tf.ts';

const require = createRequire(import.meta.url);

/** The 7x7 average pool right after the last 1x1 conv: a global average pool on 224 px input. */
export const MOBILENET_V2_FEATURE_LAYER = 'average_pooling2d_1';
export const MOBILENET_V2_INPUT_SIZE = 224;
export const MOBILENET_V2_FEATURES = 1280;
/** Multiply-accumulates of one 224 px forward pass (the published 300 M MAC figure), for GFLOP/s. */
export const MOBILENET_V2_MACS = 300e6;

/** InceptionV3: the 8x8 average pool over the last 8x8 mixed block, i.e. its global pool. */
export const INCEPTION_V3_FEATURE_LAYER = 'average_pooling2d_10';
export const INCEPTION_V3_INPUT_SIZE = 299;
export const INCEPTION_V3_FEATURES = 2048;

interface NsfwjsModelJson {
  readonly modelTopology: unknown;
  readonly weightsManifest: { readonly paths: string[]; readonly weights: tf.io.WeightsManifestEntry[] }[];
}

export function nsfwjsModelsDirectory(): string {
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch (error) {
    throw new TemiError('TS_ERR_EMBED_BUILTIN_MISSING', 'the built-in models come from the npm package "nsfwjs", which is not installed (npm install nsfwjs)', { cause: error });
  }
  // <pkg>/dist/cjs/index.js -> <pkg>/dist/models
  return path.join(path.dirname(entry), '..', 'models');
}

export function mobileNetV2Artifacts(): tf.io.ModelArtifacts {
  return nsfwjsArtifacts('mobilenet_v2');
}

export function inceptionV3Artifacts(): tf.io.ModelArtifacts {
  return nsfwjsArtifacts('inception_v3');
}

/** A model as in-memory artifacts (topology, weight specs with their quantisation, weight bytes). */
function nsfwjsArtifacts(name: 'mobilenet_v2' | 'inception_v3'): tf.io.ModelArtifacts {
  const dir = path.join(nsfwjsModelsDirectory(), name);
  let modelJson: NsfwjsModelJson;
  try {
    modelJson = require(path.join(dir, 'model.min.js')) as NsfwjsModelJson;
  } catch (error) {
    throw new TemiError('TS_ERR_EMBED_BUILTIN_MISSING', `cannot read ${name} from the nsfwjs package (its layout may have changed)`, { where: dir, cause: error });
  }
  const shards: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const shard of group.paths) {
      const encoded = require(path.join(dir, `${shard}.min.js`)) as unknown;
      if (typeof encoded !== 'string') throw new TemiError('TS_ERR_EMBED_BUILTIN_MISSING', `weight shard ${shard} of the nsfwjs ${name} is not a base64 string`, { where: dir });
      shards.push(Buffer.from(encoded, 'base64'));
    }
  }
  const bytes = Buffer.concat(shards);
  return {
    modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: 'layers-model',
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}
