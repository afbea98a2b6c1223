/**
 * A TensorFlow.js model as an embedder: stacks a batch of decoded images into one NHWC tensor,
 * runs the feature extractor, copies the rows out and frees every tensor it made, so a stage can
 * run it for days without tf.memory() creeping up.
 */
import path from 'node:path';
import type { DecodedPixels } from '../runtime/contracts/record.ts';
import { TemiError, reasonOf } from '../runtime/errors.ts';
import { tf } from '../tf/tf.ts';
import { BUILTIN_MODELS, type BuiltinModelName } from './builtin-models.ts';
import { featureExtractor, type FeatureExtractor } from './feature-extractor.ts';
import { l2NormalizeInPlace } from './l2-normalize.ts';
import { loadModelFromArtifacts, loadModelFromPath, type ModelFormat } from './load-model.ts';
import { describeGeometry, type ExpectedGeometry } from './pixel-checks.ts';
import { packImages } from './onnx/pack-images.ts';

export interface ModelSpec {
  /** model.json (LayersModel / GraphModel) or a SavedModel directory; relative to baseDir. */
  readonly path?: string;
  readonly builtin?: BuiltinModelName;
  readonly format?: ModelFormat | 'auto';
  readonly outputLayer?: string;
  readonly outputNode?: string;
  /** Input height = width, for models whose input size is not fixed in the graph. */
  readonly inputSize?: number;
}

export interface TfEmbedderOptions {
  readonly baseDir?: string;
  readonly l2normalize?: boolean;
  /** Where errors point (the stage's config path). */
  readonly where?: string;
}

export class TfEmbedder {
  private constructor(
    private readonly extractor: FeatureExtractor,
    /** Fully known: every image of a batch must have exactly this shape. */
    readonly geometry: Required<ExpectedGeometry>,
    readonly dim: number,
    private readonly l2normalize: boolean,
  ) {}

  /** Loads the model, checks the chosen output exists and answers, and measures the embedding size. */
  static async open(spec: ModelSpec, options: TfEmbedderOptions = {}): Promise<TfEmbedder> {
    const where = options.where ?? 'model';
    const { loaded, output, inputSize } = await loadSpec(spec, options.baseDir ?? process.cwd(), where);
    const extractor = featureExtractor(loaded, output, where);
    try {
      const geometry = resolveGeometry(extractor.geometry, inputSize, where);
      const dim = probeDimension(extractor, geometry, where);
      return new TfEmbedder(extractor, geometry, dim, options.l2normalize ?? false);
    } catch (error) {
      extractor.dispose();
      throw error;
    }
  }

  /** One row per image, in order. Images must already match `geometry` (see checkPixels). */
  async embed(images: readonly DecodedPixels[]): Promise<Float32Array[]> {
    const { width, height, channels } = this.geometry;
    // HWC as TF.js takes it, transposed from CHW when a decode preset for PyTorch models wrote that.
    const stacked = packImages(images, 'nhwc');
    const input = tf.tensor4d(stacked, [images.length, height, width, channels]);
    let output: tf.Tensor2D | undefined;
    try {
      output = tf.tidy(() => this.extractor.run(input));
      const values = await output.data<'float32'>();
      const rows: Float32Array[] = [];
      for (let i = 0; i < images.length; i++) {
        const row = values.slice(i * this.dim, (i + 1) * this.dim);
        rows.push(this.l2normalize ? l2NormalizeInPlace(row) : row);
      }
      return rows;
    } finally {
      input.dispose();
      output?.dispose();
    }
  }

  dispose(): void {
    this.extractor.dispose();
  }
}

async function loadSpec(spec: ModelSpec, baseDir: string, where: string) {
  if ((spec.path === undefined) === (spec.builtin === undefined)) {
    throw new TemiError('TS_ERR_EMBED_MODEL_CHOICE', 'set exactly one of model.path (your model) and model.builtin (e.g. "mobilenet-v2")', { where });
  }
  if (spec.builtin !== undefined) {
    const builtin = BUILTIN_MODELS[spec.builtin];
    if (spec.format !== undefined && spec.format !== 'auto' && spec.format !== 'layers') {
      throw new TemiError('TS_ERR_EMBED_MODEL_CHOICE', `the built-in "${spec.builtin}" is a LayersModel; leave model.format out`, { where });
    }
    const loaded = await loadModelFromArtifacts(builtin.artifacts(), `${where} (built-in ${spec.builtin})`);
    return { loaded, output: { outputLayer: spec.outputLayer ?? builtin.outputLayer, outputNode: spec.outputNode }, inputSize: spec.inputSize };
  }
  const location = path.resolve(baseDir, spec.path!);
  const loaded = await loadModelFromPath(location, spec.format ?? 'auto');
  return { loaded, output: { outputLayer: spec.outputLayer, outputNode: spec.outputNode }, inputSize: spec.inputSize };
}

function resolveGeometry(fromModel: ExpectedGeometry, inputSize: number | undefined, where: string): Required<ExpectedGeometry> {
  if (inputSize !== undefined && ((fromModel.width !== undefined && fromModel.width !== inputSize) || (fromModel.height !== undefined && fromModel.height !== inputSize))) {
    throw new TemiError('TS_ERR_EMBED_INPUT_SIZE', `model.inputSize is ${inputSize} but the model takes ${describeGeometry(fromModel)} images`, { where });
  }
  const width = fromModel.width ?? inputSize;
  const height = fromModel.height ?? inputSize;
  if (width === undefined || height === undefined) {
    throw new TemiError('TS_ERR_EMBED_INPUT_SIZE', 'the model does not fix its input size; set model.inputSize (pixels, height = width)', { where });
  }
  // A model with an open channel count is fed RGB, what the decode presets produce.
  return { width, height, channels: fromModel.channels ?? 3 };
}

/** One zero image through the model: proves the output exists and gives the embedding size. */
function probeDimension(extractor: FeatureExtractor, g: Required<ExpectedGeometry>, where: string): number {
  let shape: number[];
  try {
    shape = tf.tidy(() => extractor.run(tf.zeros([1, g.height, g.width, g.channels]) as tf.Tensor4D).shape);
  } catch (error) {
    if (error instanceof TemiError) throw error;
    throw new TemiError('TS_ERR_EMBED_MODEL_RUN', `the model failed on a ${describeGeometry(g)} test image: ${reasonOf(error)}`, { where, cause: error });
  }
  return shape[1];
}
