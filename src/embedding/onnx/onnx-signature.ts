/**
 * Which input the images go into and which output is the embedding, read from the model's own
 * metadata: names (with a did-you-mean on a typo), layout, image size, batch size, element type.
 * Everything a user can get wrong about an exported model fails here, before the first record,
 * as a TemiError naming the config path and what the model actually has.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { TemiError } from '../../runtime/errors.ts';
import { closestMatch } from '../../runtime/schema/closest-match.ts';
import type { ExpectedGeometry } from '../pixel-checks.ts';
import type { TensorLayout } from './pack-images.ts';

export type OnnxElementType = 'float32' | 'float16';

export interface OnnxSignatureSpec {
  readonly input?: string;
  readonly output?: string;
  readonly layout?: TensorLayout | 'auto';
  readonly inputSize?: number;
}

export interface OnnxSignature {
  readonly input: string;
  readonly output: string;
  readonly layout: TensorLayout;
  readonly inputType: OnnxElementType;
  readonly geometry: Required<ExpectedGeometry>;
  /** The model's fixed batch size, or undefined when the batch dimension is dynamic. */
  readonly fixedBatch?: number;
}

type Metadata = readonly InferenceSession.ValueMetadata[];

export function resolveSignature(
  model: { readonly inputNames: readonly string[]; readonly outputNames: readonly string[]; readonly inputMetadata: Metadata },
  spec: OnnxSignatureSpec,
  where: string,
): OnnxSignature {
  const input = pickName('input', spec.input, model.inputNames, where);
  const output = pickName('output', spec.output, model.outputNames, where);
  const meta = model.inputMetadata.find((m) => m.name === input);
  if (!meta?.isTensor) throw new TemiError('TS_ERR_EMBED_ONNX_INPUT', `the model's input "${input}" is not a tensor`, { where: `${where}.input` });
  if (meta.type !== 'float32' && meta.type !== 'float16') {
    throw new TemiError('TS_ERR_EMBED_ONNX_INPUT', `the model's input "${input}" takes ${meta.type}; image inputs must be float32 or float16 (export the model with a float image input)`, { where: `${where}.input` });
  }
  if (meta.shape.length !== 4) {
    throw new TemiError('TS_ERR_EMBED_ONNX_INPUT', `the model's input "${input}" has shape [${meta.shape.join(', ')}]; an image batch is 4-d, NCHW or NHWC`, { where: `${where}.input` });
  }
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
  const layout = resolveLayout(spec.layout ?? 'auto', dims, input, where);
  const [channels, height, width] = layout === 'nchw' ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]];
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw new TemiError('TS_ERR_EMBED_ONNX_INPUT', `the model's input "${input}" has ${channels} channels in ${layout.toUpperCase()}; the decode stage gives 1 or 3 (check model.layout)`, { where: `${where}.layout` });
  }
  return { input, output, layout, inputType: meta.type, geometry: { ...imageSize(width, height, spec.inputSize, input, where), channels: channels ?? 3 }, fixedBatch: dims[0] };
}

function pickName(kind: 'input' | 'output', wanted: string | undefined, names: readonly string[], where: string): string {
  if (wanted === undefined) {
    if (kind === 'input' && names.length > 1) {
      throw new TemiError('TS_ERR_EMBED_ONNX_INPUT', `the model has ${names.length} inputs (${quoted(names)}); name the image input in model.input`, { where: `${where}.input` });
    }
    return names[0];
  }
  if (names.includes(wanted)) return wanted;
  const guess = closestMatch(wanted, names);
  throw new TemiError(kind === 'input' ? 'TS_ERR_EMBED_ONNX_INPUT' : 'TS_ERR_EMBED_ONNX_OUTPUT', `the model has no ${kind} "${wanted}"${guess ? `; did you mean "${guess}"?` : ''} (its ${kind}s: ${quoted(names)})`, {
    where: `${where}.${kind}`,
  });
}

/** NCHW when the second dimension is a channel count, NHWC when the last is; otherwise the user says. */
function resolveLayout(layout: TensorLayout | 'auto', dims: readonly (number | undefined)[], input: string, where: string): TensorLayout {
  const isChannels = (d: number | undefined) => d === 1 || d === 3;
  if (layout !== 'auto') return layout;
  if (isChannels(dims[1]) && !isChannels(dims[3])) return 'nchw';
  if (isChannels(dims[3]) && !isChannels(dims[1])) return 'nhwc';
  throw new TemiError('TS_ERR_EMBED_ONNX_LAYOUT', `cannot tell whether the input "${input}" [${dims.map((d) => d ?? '?').join(', ')}] is NCHW or NHWC; set model.layout`, { where: `${where}.layout` });
}

function imageSize(width: number | undefined, height: number | undefined, inputSize: number | undefined, input: string, where: string): { width: number; height: number } {
  if (inputSize !== undefined && ((width !== undefined && width !== inputSize) || (height !== undefined && height !== inputSize))) {
    throw new TemiError('TS_ERR_EMBED_INPUT_SIZE', `model.inputSize is ${inputSize} but the input "${input}" takes ${width ?? 'any'}x${height ?? 'any'} images`, { where: `${where}.inputSize` });
  }
  const w = width ?? inputSize;
  const h = height ?? inputSize;
  if (w === undefined || h === undefined) {
    throw new TemiError('TS_ERR_EMBED_INPUT_SIZE', `the input "${input}" leaves its image size open; set model.inputSize (pixels, height = width)`, { where: `${where}.inputSize` });
  }
  return { width: w, height: h };
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}
