/**
 * A TensorFlow.js model as an embedder: stacks a batch of decoded images into one NHWC tensor,
 * runs the feature extractor, copies the rows out and frees every tensor it made, so a stage can
 * run it for days without tf.memory() creeping up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DecodedPixels } from '../runtime/contracts/record.ts';
import { TemiError, reasonOf } from '../runtime/errors.ts';
import { nativeBackendUsesGpu } from '../tf/backends.ts';
import { tf } from '../tf/tf.ts';
import { BUILTIN_MODELS, type BuiltinModelName } from './builtin-models.ts';
import { featureExtractor, type FeatureExtractor } from './feature-extractor.ts';
import { l2NormalizeInPlace } from './l2-normalize.ts';
import { writeLayersSavedModel } from './layers-saved-model.ts';
import { type LoadedModel, loadModelFromArtifacts, loadModelFromPath, loadSavedModel, type ModelFormat } from './load-model.ts';
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
  /**
   * On the native backends, run a LayersModel as one TensorFlow session (written as a frozen
   * SavedModel, batch norm folded, see layers-saved-model.ts) instead of layer by layer in eager
   * mode; checked against the LayersModel on a test batch at open. Default true; false keeps the
   * LayersModel (and so does any layer the translation does not know).
   */
  readonly session?: boolean;
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
    /**
     * How the model runs: its format, "layers-as-session" for a LayersModel run as one TensorFlow
     * session, or "layers (one session declined: why)" when the session route was tried and not taken.
     */
    readonly execution: string,
  ) {}

  /** Loads the model, checks the chosen output exists and answers, and measures the embedding size. */
  static async open(spec: ModelSpec, options: TfEmbedderOptions = {}): Promise<TfEmbedder> {
    const where = options.where ?? 'model';
    const { loaded, output, inputSize } = await loadSpec(spec, options.baseDir ?? process.cwd(), where);
    let extractor = featureExtractor(loaded, output, where);
    let execution: string = loaded.format;
    try {
      const geometry = resolveGeometry(extractor.geometry, inputSize, where);
      const dim = probeDimension(extractor, geometry, where);
      if (loaded.format === 'layers' && options.session !== false && isNativeBackend()) {
        const attempt = await layersAsSession(loaded.model, extractor, output.outputLayer, geometry, where);
        if ('session' in attempt) {
          extractor.dispose();
          extractor = attempt.session;
          execution = 'layers-as-session';
        } else {
          execution = `layers (one session declined: ${attempt.declined})`;
        }
      }
      return new TfEmbedder(extractor, geometry, dim, options.l2normalize ?? false, execution);
    } catch (error) {
      extractor.dispose();
      throw error;
    }
  }

  /**
   * The last batch buffer, written over by the next batch of the same size: a fresh one per batch
   * (9.6 MB at 16 images of 224x224x3) is mostly page faults, 25 ms of a batch of 64 that the GPU
   * runs in 5.
   */
  private packed?: Float32Array;

  /** One row per image, in order. Images must already match `geometry` (see checkPixels). */
  async embed(images: readonly DecodedPixels[]): Promise<Float32Array[]> {
    // HWC as TF.js takes it, transposed from CHW when a decode preset for PyTorch models wrote that.
    // embedPacked disposes its input tensor (and copies out an output that shares the buffer)
    // before it returns, so nothing holds the buffer once it has.
    this.packed = packImages(images, 'nhwc', images.length, this.packed);
    const rows = this.embedPacked(this.packed, images.length);
    return Array.from({ length: images.length }, (_, i) => rows.slice(i * this.dim, (i + 1) * this.dim));
  }

  /**
   * `count` images already packed NHWC into one buffer -> `count` rows of `dim` values, one
   * buffer (l2-normalised when the embedder does that). Synchronous: the forward pass holds this
   * thread (see WorkerEmbedder for running it off the pipeline's thread).
   */
  embedPacked(packed: Float32Array, count: number): Float32Array {
    const { width, height, channels } = this.geometry;
    const input = tf.tensor4d(packed, [count, height, width, channels]);
    let output: tf.Tensor2D | undefined;
    try {
      output = tf.tidy(() => this.extractor.run(input));
      const values = output.dataSync<'float32'>();
      const rows = values.buffer === packed.buffer ? Float32Array.from(values) : values;
      if (this.l2normalize) for (let i = 0; i < count; i++) l2NormalizeInPlace(rows.subarray(i * this.dim, (i + 1) * this.dim));
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

function isNativeBackend(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/**
 * How far the session's outputs may stray from the LayersModel's on the probe batch, as a share of
 * the largest output (at least 1). On the CPU, folding batch norm into the weights changes float32
 * rounding only: ~1e-5 on MobileNetV2. On a GPU both paths run cuDNN/cuBLAS in TensorFloat-32 (a
 * 10-bit mantissa, TensorFlow's default on Ampere and later), with algorithms picked per graph or
 * per op, and part by more: on an H200 the CPU's bound declined MobileNetV2's session (see
 * docs/BENCHMARKS.md, "On a GPU"). A translation error (a wrong weight, padding or layout) moves
 * the output by its own size, far above either bound.
 */
const SESSION_TOLERANCE = { cpu: 1e-3, gpu: 3e-2 } as const;

/**
 * The LayersModel as one TensorFlow session: written as a frozen SavedModel into a temporary
 * directory (TensorFlow reads it whole at load, so the directory is removed right after), then
 * checked against the LayersModel on a random batch of two. Declined, with the reason, when a
 * layer has no translation, TensorFlow refuses the graph or the outputs disagree; the LayersModel
 * then runs as before.
 */
async function layersAsSession(
  model: tf.LayersModel,
  layers: FeatureExtractor,
  outputLayer: string | undefined,
  g: Required<ExpectedGeometry>,
  where: string,
): Promise<{ session: FeatureExtractor } | { declined: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'temi-session-'));
  let session: FeatureExtractor | undefined;
  try {
    writeLayersSavedModel(model, dir, outputLayer);
    const loaded: LoadedModel = { format: 'saved-model', model: await loadSavedModel(dir) };
    session = featureExtractor(loaded, {}, where);
    const probe = tf.randomUniform([2, g.height, g.width, g.channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    const [diff, scale] = tf.tidy(() => {
      const a = layers.run(probe);
      const b = session!.run(probe);
      if (a.shape[1] !== b.shape[1]) return [Infinity, 1];
      return [tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], Math.max(1, tf.max(tf.abs(a)).dataSync()[0])];
    });
    probe.dispose();
    const tolerance = nativeBackendUsesGpu() ? SESSION_TOLERANCE.gpu : SESSION_TOLERANCE.cpu;
    if (!(diff <= tolerance * scale)) {
      session.dispose();
      return { declined: `its outputs differ from the layer-by-layer model's by ${diff.toPrecision(3)} (largest output ${scale.toPrecision(3)}, tolerance ${tolerance} of it)` };
    }
    return { session };
  } catch (error) {
    session?.dispose();
    // A layer without a translation (UnsupportedLayerError) or a graph TensorFlow refuses: the
    // LayersModel still works, so it runs as it always did.
    if (error instanceof Error) return { declined: reasonOf(error) };
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
