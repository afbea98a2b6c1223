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
import { openNativeSession, tensorBuffer, type NativeSession } from '../tf/native-session.ts';
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

/** How a batch, packed NHWC into one buffer, becomes its rows. */
interface BatchRunner {
  /** `count` images in `packed` -> count x dim values in a buffer of their own. */
  run(packed: Float32Array, count: number): Float32Array;
  dispose(): void;
}

export class TfEmbedder {
  private constructor(
    private readonly runner: BatchRunner,
    /** Fully known: every image of a batch must have exactly this shape. */
    readonly geometry: Required<ExpectedGeometry>,
    readonly dim: number,
    private readonly l2normalize: boolean,
    /**
     * How the model runs: its format; for a LayersModel run as one TensorFlow session
     * "layers-as-session, input shared" (the pack buffer is the session's input tensor, see
     * src/tf/native-session.ts) or "layers-as-session, input copied (why)" (through tfjs-node,
     * which copies it); "layers (one session declined: why)" when the session route was tried
     * and not taken.
     */
    readonly execution: string,
  ) {}

  /** Loads the model, checks the chosen output exists and answers, and measures the embedding size. */
  static async open(spec: ModelSpec, options: TfEmbedderOptions = {}): Promise<TfEmbedder> {
    const where = options.where ?? 'model';
    const { loaded, output, inputSize } = await loadSpec(spec, options.baseDir ?? process.cwd(), where);
    const extractor = featureExtractor(loaded, output, where);
    let runner: BatchRunner | undefined;
    try {
      const geometry = resolveGeometry(extractor.geometry, inputSize, where);
      const dim = probeDimension(extractor, geometry, where);
      let execution: string = loaded.format;
      if (loaded.format === 'layers' && options.session !== false && isNativeBackend()) {
        const attempt = await layersAsSession(loaded.model, extractor, output.outputLayer, geometry, where);
        if ('runner' in attempt) {
          runner = attempt.runner;
          execution = `layers-as-session, ${attempt.input}`;
        } else {
          execution = `layers (one session declined: ${attempt.declined})`;
        }
      }
      if (runner) extractor.dispose();
      return new TfEmbedder(runner ?? tensorRunner(extractor, geometry), geometry, dim, options.l2normalize ?? false, execution);
    } catch (error) {
      extractor.dispose();
      runner?.dispose();
      throw error;
    }
  }

  /**
   * The batch buffer, written over by each batch (its start when the batch is smaller; it grows
   * for a larger one): a fresh one per batch (9.6 MB at 16 images of 224x224x3) is mostly page
   * faults, 25 ms of a batch of 64 that the GPU runs in 5. From tensorBuffer, so a native session
   * takes it as its input without a copy.
   */
  private packed?: Float32Array;

  /** One row per image, in order. Images must already match `geometry` (see checkPixels). */
  async embed(images: readonly DecodedPixels[]): Promise<Float32Array[]> {
    // HWC as TF.js takes it, transposed from CHW when a decode preset for PyTorch models wrote that.
    // The runners copy their output out, so nothing holds the buffer once embedPacked returns.
    const { width, height, channels } = this.geometry;
    const length = images.length * width * height * channels;
    if (!this.packed || this.packed.length < length) this.packed = tensorBuffer(length);
    const rows = this.embedPacked(packImages(images, 'nhwc', images.length, this.packed.subarray(0, length)), images.length);
    return Array.from({ length: images.length }, (_, i) => rows.slice(i * this.dim, (i + 1) * this.dim));
  }

  /**
   * `count` images already packed NHWC into one buffer -> `count` rows of `dim` values, one
   * buffer (l2-normalised when the embedder does that). Synchronous: the forward pass holds this
   * thread (see WorkerEmbedder for running it off the pipeline's thread).
   */
  embedPacked(packed: Float32Array, count: number): Float32Array {
    const rows = this.runner.run(packed, count);
    if (this.l2normalize) for (let i = 0; i < count; i++) l2NormalizeInPlace(rows.subarray(i * this.dim, (i + 1) * this.dim));
    return rows;
  }

  dispose(): void {
    this.runner.dispose();
  }
}

/** The model through TensorFlow.js tensors: tfjs copies the buffer in, the rows are copied out. */
function tensorRunner(extractor: FeatureExtractor, g: Required<ExpectedGeometry>): BatchRunner {
  return {
    run(packed, count) {
      const input = tf.tensor4d(packed, [count, g.height, g.width, g.channels]);
      let output: tf.Tensor2D | undefined;
      try {
        output = tf.tidy(() => extractor.run(input));
        const values = output.dataSync<'float32'>();
        // An output that shares the input's buffer (an identity model) must not be written over by the next batch.
        return values.buffer === packed.buffer ? Float32Array.from(values) : values;
      } finally {
        input.dispose();
        output?.dispose();
      }
    },
    dispose: () => extractor.dispose(),
  };
}

/** A session from our addon: the pack buffer is its input tensor, no copy on the way in. */
function nativeRunner(session: NativeSession, g: Required<ExpectedGeometry>): BatchRunner {
  return {
    run: (packed, count) => session.run(packed, [count, g.height, g.width, g.channels]),
    dispose: () => session.dispose(),
  };
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
 * directory (TensorFlow reads it whole at load, so the directory is removed right after), opened
 * through our addon where it is built (the pack buffer is then the session's input) or else
 * through tfjs-node, then checked against the LayersModel on a random batch of two. Declined,
 * with the reason, when a layer has no translation, TensorFlow refuses the graph or the outputs
 * disagree; the LayersModel then runs as before.
 */
async function layersAsSession(
  model: tf.LayersModel,
  layers: FeatureExtractor,
  outputLayer: string | undefined,
  g: Required<ExpectedGeometry>,
  where: string,
): Promise<{ runner: BatchRunner; input: string } | { declined: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'temi-session-'));
  let runner: BatchRunner | undefined;
  try {
    const nodes = writeLayersSavedModel(model, dir, outputLayer);
    const native = openNativeSession(dir, { tag: 'serve', ...nodes });
    let input: string;
    if ('unavailable' in native) {
      const loaded: LoadedModel = { format: 'saved-model', model: await loadSavedModel(dir) };
      runner = tensorRunner(featureExtractor(loaded, {}, where), g);
      input = `input copied (${native.unavailable})`;
    } else {
      runner = nativeRunner(native, g);
      input = 'input shared';
    }
    const probe = tf.randomUniform([2, g.height, g.width, g.channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    const expected = tf.tidy(() => layers.run(probe).dataSync<'float32'>());
    const actual = runner.run(probe.dataSync<'float32'>(), 2);
    probe.dispose();
    const tolerance = nativeBackendUsesGpu() ? SESSION_TOLERANCE.gpu : SESSION_TOLERANCE.cpu;
    const { diff, scale } = largestDifference(expected, actual);
    if (!(diff <= tolerance * scale)) {
      runner.dispose();
      return { declined: `its outputs differ from the layer-by-layer model's by ${diff.toPrecision(3)} (largest output ${scale.toPrecision(3)}, tolerance ${tolerance} of it)` };
    }
    return { runner, input };
  } catch (error) {
    runner?.dispose();
    // A layer without a translation (UnsupportedLayerError) or a graph TensorFlow refuses: the
    // LayersModel still works, so it runs as it always did.
    if (error instanceof Error) return { declined: reasonOf(error) };
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** max |a - b| and the largest |a| (at least 1); an infinite difference when the sizes differ. */
function largestDifference(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  if (a.length !== b.length) return { diff: Infinity, scale: 1 };
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { diff, scale };
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
