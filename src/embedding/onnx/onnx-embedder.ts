/**
 * An ONNX model as an embedder, run by ONNX Runtime (onnxruntime-node, CPU library inside the npm
 * package; CUDA when its provider libraries are installed, see docs/MODELS.md). Images are packed
 * into the model's layout and element type, the chosen output is flattened per image into the
 * embedding. A model with a fixed batch size is fed in chunks of that size, the last one padded.
 */
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { DecodedPixels } from '../../runtime/contracts/record.ts';
import { TemiError, reasonOf } from '../../runtime/errors.ts';
import type { Embedder } from '../embedder.ts';
import { l2NormalizeInPlace } from '../l2-normalize.ts';
import { describeGeometry } from '../pixel-checks.ts';
import { fromFloat16Bits, toFloat16Bits } from './float16.ts';
import { packImages } from './pack-images.ts';
import { resolveSignature, type OnnxSignature, type OnnxSignatureSpec } from './onnx-signature.ts';

export type OnnxExecutionProvider = 'cpu' | 'cuda';

export interface OnnxModelSpec extends OnnxSignatureSpec {
  /** The .onnx file; relative to baseDir. */
  readonly path: string;
}

export interface OnnxRunOptions {
  /** Threads inside one operator (ONNX Runtime's intra-op pool); 0 = its default (one per physical core). */
  readonly intraOpThreads?: number;
  readonly executionProvider?: OnnxExecutionProvider;
}

export interface OnnxEmbedderOptions extends OnnxRunOptions {
  readonly baseDir?: string;
  readonly l2normalize?: boolean;
  /** Where errors point (the stage's config path of the model). */
  readonly where?: string;
  /** Where errors about intraOpThreads / executionProvider point. */
  readonly settingsWhere?: string;
}

export class OnnxEmbedder implements Embedder {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly signature: OnnxSignature,
    readonly dim: number,
    private readonly l2normalize: boolean,
    /** The config path of the model, for errors. */
    private readonly where: string,
  ) {}

  get geometry() {
    return this.signature.geometry;
  }

  static async open(spec: OnnxModelSpec, options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    const where = options.where ?? 'model';
    const ort = await importOnnxRuntime(where);
    const file = path.resolve(options.baseDir ?? process.cwd(), spec.path);
    const session = await createSession(ort, file, options, where, options.settingsWhere ?? 'onnx');
    try {
      const signature = resolveSignature(session, spec, where);
      const probe = new OnnxEmbedder(ort, session, signature, 0, false, where);
      const dim = await probe.probeDimension();
      return new OnnxEmbedder(ort, session, signature, dim, options.l2normalize ?? false, where);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async embed(images: readonly DecodedPixels[]): Promise<Float32Array[]> {
    const chunk = this.signature.fixedBatch ?? Math.max(images.length, 1);
    const rows: Float32Array[] = [];
    for (let start = 0; start < images.length; start += chunk) {
      const part = images.slice(start, start + chunk);
      const { values, perImage } = await this.run(part, this.signature.fixedBatch ?? part.length);
      for (let i = 0; i < part.length; i++) {
        const row = values.slice(i * perImage, (i + 1) * perImage);
        rows.push(this.l2normalize ? l2NormalizeInPlace(row) : row);
      }
    }
    return rows;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private async run(images: readonly DecodedPixels[], slots: number): Promise<{ values: Float32Array; perImage: number }> {
    const { input, output, layout, inputType, geometry } = this.signature;
    const packed = packImages(images, layout, slots);
    const dims = layout === 'nchw' ? [slots, geometry.channels, geometry.height, geometry.width] : [slots, geometry.height, geometry.width, geometry.channels];
    const feed = inputType === 'float16' ? new this.ort.Tensor('float16', toFloat16Bits(packed), dims) : new this.ort.Tensor('float32', packed, dims);
    let result: Ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run({ [input]: feed }, [output]);
    } catch (error) {
      feed.dispose();
      throw new TemiError('TS_ERR_EMBED_MODEL_RUN', `ONNX Runtime failed on a batch of ${images.length}: ${reasonOf(error)}`, { where: this.where, cause: error });
    }
    const tensor = result[output];
    try {
      const values = toFloat32(tensor, output, this.where);
      const perImage = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
      if (tensor.dims[0] !== slots || perImage === 0) {
        throw new TemiError('TS_ERR_EMBED_ONNX_OUTPUT', `the output "${output}" has shape [${tensor.dims.join(', ')}] for a batch of ${slots}; it must lead with the batch dimension`, { where: `${this.where}.output` });
      }
      return { values, perImage };
    } finally {
      feed.dispose();
      tensor.dispose();
    }
  }

  /** One zero image through the model: proves the input and output answer and gives the embedding size. */
  private async probeDimension(): Promise<number> {
    const { geometry, fixedBatch } = this.signature;
    const blank = { ...geometry, data: new Float32Array(geometry.width * geometry.height * geometry.channels) };
    try {
      return (await this.run([blank], fixedBatch ?? 1)).perImage;
    } catch (error) {
      if (error instanceof TemiError) throw error;
      throw new TemiError('TS_ERR_EMBED_MODEL_RUN', `the model failed on a ${describeGeometry(geometry)} test image: ${reasonOf(error)}`, { where: this.where, cause: error });
    }
  }
}

function toFloat32(tensor: Ort.Tensor, name: string, where: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return fromFloat16Bits(tensor.data as Uint16Array);
  throw new TemiError('TS_ERR_EMBED_ONNX_OUTPUT', `the output "${name}" is ${tensor.type}; an embedding must be float32 or float16`, { where: `${where}.output` });
}

async function importOnnxRuntime(where: string): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (error) {
    throw new TemiError('TS_ERR_EMBED_ONNX_UNAVAILABLE', `onnxruntime-node cannot be loaded (${reasonOf(error)}); run npm install, then npm run setup:onnx`, { where, cause: error });
  }
}

async function createSession(ort: typeof Ort, file: string, options: OnnxRunOptions, where: string, settingsWhere: string): Promise<Ort.InferenceSession> {
  const provider = options.executionProvider ?? 'cpu';
  try {
    return await ort.InferenceSession.create(file, {
      executionProviders: [provider],
      // Errors only: ONNX Runtime's warnings about graph rewrites and unused initializers would
      // flood the stage's log. onnxruntime-node refuses an undefined thread count, so 0 = its default.
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      logSeverityLevel: 3,
    });
  } catch (error) {
    const reason = reasonOf(error);
    if (provider === 'cuda') {
      throw new TemiError('TS_ERR_EMBED_ONNX_PROVIDER', `ONNX Runtime cannot start its CUDA execution provider (${reason}); see docs/MODELS.md, "GPU" (scripts/onnx/setup-cuda.sh)`, { where: `${settingsWhere}.executionProvider`, cause: error });
    }
    const missing = /no such file|does not exist|ENOENT|Load model from .* failed/i.test(reason);
    throw new TemiError('TS_ERR_EMBED_MODEL_LOAD', missing ? `cannot read the ONNX model ${file}: ${reason}` : `cannot load the ONNX model ${file}: ${reason}`, { where: `${where}.path`, cause: error });
  }
}
