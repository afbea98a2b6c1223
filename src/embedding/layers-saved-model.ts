/**
 * A TF.js LayersModel, cut at one layer, written as a TensorFlow SavedModel (a frozen GraphDef:
 * every weight a Const, no variables), so the native backend runs a whole batch in ONE session
 * call instead of one N-API call and one eager kernel per layer op.
 *
 * Why: tfjs-layers runs MobileNetV2 as ~360 eager kernels (a ReLU6 alone is Relu + Maximum +
 * Minimum + ClipByValue, batch norm a FusedBatchNorm of its own), each a full pass over the
 * activations. In a session TensorFlow's graph optimiser (grappler, with oneDNN on x86) fuses
 * Conv2D / DepthwiseConv2dNative + BiasAdd + Relu6 into one kernel, and batch norm is folded into
 * the convolution weights here (inference mode: y = (x - mean) / sqrt(var + eps) * gamma + beta).
 *
 * The protobuf messages come from tfjs-node's own compiled TensorFlow protos
 * (`@tensorflow/tfjs-node/dist/proto/api_pb.js`, which it uses to read SavedModel signatures),
 * so nothing beyond the native package is needed. Layers it cannot translate throw
 * `UnsupportedLayerError`; callers fall back to running the LayersModel.
 */
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativePackageSpecifier } from '../tf/backends.ts';
import { tf } from '../tf/tf.ts';

/** The signature's input and output keys. */
export const SAVED_MODEL_INPUT = 'images';
export const SAVED_MODEL_OUTPUT = 'embedding';

export class UnsupportedLayerError extends Error {}

/* The generated google-protobuf classes, typed as far as this file uses them. */
interface Message {
  serializeBinary(): Uint8Array;
}
interface ProtoClasses {
  SavedModel: new () => Message & { setSavedModelSchemaVersion(v: number): void; addMetaGraphs(m: unknown): void };
  MetaGraphDef: (new () => Message & {
    setMetaInfoDef(m: unknown): void;
    setGraphDef(g: unknown): void;
    getSignatureDefMap(): { set(k: string, v: unknown): void };
  }) & { MetaInfoDef: new () => { addTags(t: string): void; setTensorflowVersion(v: string): void } };
  GraphDef: new () => { addNode(n: unknown): void; setVersions(v: unknown): void };
  VersionDef: new () => { setProducer(v: number): void; setMinConsumer(v: number): void };
  NodeDef: new () => { setName(n: string): void; setOp(o: string): void; addInput(i: string): void; getAttrMap(): { set(k: string, v: unknown): void } };
  AttrValue: (new () => {
    setType(t: number): void;
    setS(s: Uint8Array | string): void;
    setB(b: boolean): void;
    setI(i: number): void;
    setShape(s: unknown): void;
    setTensor(t: unknown): void;
    setList(l: unknown): void;
  }) & { ListValue: new () => { addI(i: number): void } };
  Tensor: new () => { setDtype(t: number): void; setTensorShape(s: unknown): void; setTensorContent(b: Uint8Array): void };
  TensorShape: (new () => { addDim(d: unknown): void; setUnknownRank(u: boolean): void }) & { Dim: new () => { setSize(n: number): void } };
  TensorInfo: new () => { setName(n: string): void; setDtype(t: number): void; setTensorShape(s: unknown): void };
  SignatureDef: new () => { getInputsMap(): { set(k: string, v: unknown): void }; getOutputsMap(): { set(k: string, v: unknown): void }; setMethodName(m: string): void };
  DataType: Record<string, number>;
}

function loadProtos(): ProtoClasses {
  const require = createRequire(import.meta.url);
  // The native package in use first (a path when check:gpu provisioned tfjs-node-gpu outside node_modules).
  const loaded = nativePackageSpecifier();
  const inUse = loaded?.startsWith('file:') ? path.join(path.dirname(fileURLToPath(loaded)), 'proto', 'api_pb.js') : loaded && `${loaded}/dist/proto/api_pb.js`;
  for (const file of [...(inUse ? [inUse] : []), '@tensorflow/tfjs-node/dist/proto/api_pb.js', '@tensorflow/tfjs-node-gpu/dist/proto/api_pb.js']) {
    try {
      return require(file) as ProtoClasses;
    } catch {
      // try the next package
    }
  }
  throw new UnsupportedLayerError('the TensorFlow protobuf messages of @tensorflow/tfjs-node are not installed');
}

type LayerConfig = Record<string, unknown>;

/** Folded batch norm of one layer: y = x * scale + shift, per channel. */
interface Affine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

class GraphBuilder {
  private readonly graph: InstanceType<ProtoClasses['GraphDef']>;
  private count = 0;

  constructor(private readonly pb: ProtoClasses) {
    this.graph = new pb.GraphDef();
    const versions = new pb.VersionDef();
    versions.setProducer(1994); // TF 2.18's GraphDef version
    versions.setMinConsumer(12);
    this.graph.setVersions(versions);
  }

  node(op: string, name: string, inputs: string[], attrs: Record<string, unknown>): string {
    const node = new this.pb.NodeDef();
    node.setName(name);
    node.setOp(op);
    for (const input of inputs) node.addInput(input);
    const map = node.getAttrMap();
    for (const [key, value] of Object.entries(attrs)) map.set(key, value);
    this.graph.addNode(node);
    return name;
  }

  unique(base: string): string {
    return `${base.replace(/[^A-Za-z0-9_./-]/g, '_')}__${this.count++}`;
  }

  type(dtype: 'DT_FLOAT' | 'DT_INT32') {
    const a = new this.pb.AttrValue();
    a.setType(this.pb.DataType[dtype]);
    return a;
  }

  string(s: string) {
    const a = new this.pb.AttrValue();
    a.setS(new TextEncoder().encode(s));
    return a;
  }

  ints(values: number[]) {
    const list = new this.pb.AttrValue.ListValue();
    for (const v of values) list.addI(v);
    const a = new this.pb.AttrValue();
    a.setList(list);
    return a;
  }

  shape(dims: number[]) {
    const s = new this.pb.TensorShape();
    for (const d of dims) {
      const dim = new this.pb.TensorShape.Dim();
      dim.setSize(d);
      s.addDim(dim);
    }
    return s;
  }

  shapeAttr(dims: number[]) {
    const a = new this.pb.AttrValue();
    a.setShape(this.shape(dims));
    return a;
  }

  constant(name: string, values: Float32Array | Int32Array, shape: number[]): string {
    const tensor = new this.pb.Tensor();
    const dtype = values instanceof Int32Array ? 'DT_INT32' : 'DT_FLOAT';
    tensor.setDtype(this.pb.DataType[dtype]);
    tensor.setTensorShape(this.shape(shape));
    tensor.setTensorContent(new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice());
    const value = new this.pb.AttrValue();
    value.setTensor(tensor);
    return this.node('Const', this.unique(name), [], { dtype: this.type(dtype), value });
  }

  build() {
    return this.graph;
  }
}

function config(layer: tf.layers.Layer): LayerConfig {
  return layer.getConfig() as LayerConfig;
}

function inboundNames(layer: tf.layers.Layer): string[] {
  const node = layer.inboundNodes[0];
  return node ? node.inboundLayers.map((l) => l.name) : [];
}

function pair(v: unknown, what: string): [number, number] {
  const list = Array.isArray(v) ? v : [v, v];
  if (list.length !== 2 || !list.every((x) => Number.isInteger(x))) throw new UnsupportedLayerError(`${what}: ${JSON.stringify(v)}`);
  return [list[0] as number, list[1] as number];
}

function weightsOf(layer: tf.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => w.dataSync() as Float32Array);
}

/** Batch norm in inference mode as a per-channel affine map. */
function batchNormAffine(layer: tf.layers.Layer): Affine {
  const c = config(layer);
  if (c.axis !== -1 && c.axis !== 3) throw new UnsupportedLayerError(`${layer.name}: batch norm over axis ${String(c.axis)}`);
  const weights = weightsOf(layer);
  let i = 0;
  const gamma = c.scale === false ? undefined : weights[i++];
  const beta = c.center === false ? undefined : weights[i++];
  const mean = weights[i++];
  const variance = weights[i++];
  const epsilon = Number(c.epsilon ?? 1e-3);
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let k = 0; k < mean.length; k++) {
    // Math.fround at each step, as tf's batchNorm computes in float32.
    scale[k] = Math.fround((gamma ? gamma[k] : 1) / Math.fround(Math.sqrt(Math.fround(variance[k] + epsilon))));
    shift[k] = Math.fround((beta ? beta[k] : 0) - Math.fround(mean[k] * scale[k]));
  }
  return { scale, shift };
}

/**
 * Writes `model` up to `outputLayer` (the whole model when omitted) as a SavedModel in `dir`:
 * saved_model.pb with tag "serve" and signature "serving_default" (input "images" [-1, h, w, c],
 * output "embedding"); returns the graph nodes of the two. Throws UnsupportedLayerError for a
 * layer it cannot translate.
 */
export function writeLayersSavedModel(model: tf.LayersModel, dir: string, outputLayer?: string): { input: string; output: string } {
  const pb = loadProtos();
  const g = new GraphBuilder(pb);
  const float = g.type('DT_FLOAT');
  const nhwc = g.string('NHWC');
  const outputs = new Map<string, string>();
  const last = outputLayer ?? model.layers[model.layers.length - 1].name;
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  if (!byName.has(last)) throw new UnsupportedLayerError(`no layer named ${last}`);

  // Batch norms that directly follow a linear convolution used only by them are folded into it.
  const foldedInto = new Map<string, tf.layers.Layer>(); // conv name -> its batch norm
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [input] = inboundNames(layer);
    const conv = byName.get(input);
    if (!conv || !['Conv2D', 'DepthwiseConv2D'].includes(conv.getClassName())) continue;
    if (conv.outboundNodes.length !== 1 || (config(conv).activation ?? 'linear') !== 'linear') continue;
    foldedInto.set(conv.name, layer);
  }

  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4) throw new UnsupportedLayerError(`input of rank ${inputShape.length}`);
  const inputName = g.node('Placeholder', 'images', [], { dtype: float, shape: g.shapeAttr(inputShape.map((d) => d ?? -1)) });

  const activation = (name: string, x: string, kind: unknown): string => {
    switch (kind ?? 'linear') {
      case 'linear':
        return x;
      case 'relu':
        return g.node('Relu', g.unique(`${name}/relu`), [x], { T: float });
      case 'relu6':
        return g.node('Relu6', g.unique(`${name}/relu6`), [x], { T: float });
      default:
        throw new UnsupportedLayerError(`${name}: activation ${String(kind)}`);
    }
  };

  for (const layer of model.layers) {
    const c = config(layer);
    const cls = layer.getClassName();
    const inputs = inboundNames(layer).map((n) => {
      const t = outputs.get(n);
      if (t === undefined) throw new UnsupportedLayerError(`${layer.name}: input ${n} not translated`);
      return t;
    });
    let out: string;
    switch (cls) {
      case 'InputLayer':
        out = inputName;
        break;
      case 'ZeroPadding2D': {
        const p = c.padding as [[number, number], [number, number]];
        const paddings = g.constant(`${layer.name}/paddings`, Int32Array.from([0, 0, p[0][0], p[0][1], p[1][0], p[1][1], 0, 0]), [4, 2]);
        out = g.node('Pad', g.unique(layer.name), [inputs[0], paddings], { T: float, Tpaddings: g.type('DT_INT32') });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(`${layer.name}: ${String(c.dataFormat)}`);
        const [sh, sw] = pair(c.strides, `${layer.name} strides`);
        const [dh, dw] = pair(c.dilationRate ?? 1, `${layer.name} dilation`);
        const padding = g.string(c.padding === 'same' ? 'SAME' : c.padding === 'valid' ? 'VALID' : '?');
        if (c.padding !== 'same' && c.padding !== 'valid') throw new UnsupportedLayerError(`${layer.name}: padding ${String(c.padding)}`);
        const weights = weightsOf(layer);
        const kernelVar = layer.getWeights()[0];
        const kernel = Float32Array.from(weights[0]);
        const outChannels = cls === 'Conv2D' ? kernelVar.shape[3]! : kernelVar.shape[2]! * kernelVar.shape[3]!;
        const bias = c.useBias === false ? new Float32Array(outChannels) : Float32Array.from(weights[1]);
        const bn = foldedInto.get(layer.name);
        if (bn) {
          const { scale, shift } = batchNormAffine(bn);
          // The kernel's last axis (Conv2D: out channel; depthwise [h, w, in, mult]: in*mult + m) is the output channel.
          for (let i = 0; i < kernel.length; i++) kernel[i] = Math.fround(kernel[i] * scale[i % outChannels]);
          for (let k = 0; k < outChannels; k++) bias[k] = Math.fround(Math.fround(bias[k] * scale[k]) + shift[k]);
        }
        const kernelName = g.constant(`${layer.name}/kernel`, kernel, kernelVar.shape as number[]);
        const conv =
          cls === 'Conv2D'
            ? g.node('Conv2D', g.unique(layer.name), [inputs[0], kernelName], {
                T: float,
                strides: g.ints([1, sh, sw, 1]),
                dilations: g.ints([1, dh, dw, 1]),
                padding,
                data_format: nhwc,
              })
            : g.node('DepthwiseConv2dNative', g.unique(layer.name), [inputs[0], kernelName], {
                T: float,
                strides: g.ints([1, sh, sw, 1]),
                dilations: g.ints([1, dh, dw, 1]),
                padding,
                data_format: nhwc,
              });
        const biased = bn || c.useBias !== false ? g.node('BiasAdd', g.unique(`${layer.name}/bias`), [conv, g.constant(`${layer.name}/bias`, bias, [outChannels])], { T: float, data_format: nhwc }) : conv;
        out = activation(layer.name, biased, c.activation);
        if (bn) outputs.set(bn.name, out);
        break;
      }
      case 'BatchNormalization': {
        if (outputs.has(layer.name)) continue; // folded into its convolution
        const { scale, shift } = batchNormAffine(layer);
        const scaled = g.node('Mul', g.unique(`${layer.name}/scale`), [inputs[0], g.constant(`${layer.name}/scale`, scale, [scale.length])], { T: float });
        out = g.node('AddV2', g.unique(layer.name), [scaled, g.constant(`${layer.name}/shift`, shift, [shift.length])], { T: float });
        break;
      }
      case 'ReLU': {
        const max = c.maxValue as number | null | undefined;
        if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) throw new UnsupportedLayerError(`${layer.name}: leaky or thresholded ReLU`);
        if (max === 6) out = g.node('Relu6', g.unique(layer.name), [inputs[0]], { T: float });
        else if (max === null || max === undefined) out = g.node('Relu', g.unique(layer.name), [inputs[0]], { T: float });
        else throw new UnsupportedLayerError(`${layer.name}: ReLU capped at ${max}`);
        break;
      }
      case 'Activation':
        out = activation(layer.name, inputs[0], c.activation);
        break;
      case 'Add':
        out = inputs.length === 2 ? g.node('AddV2', g.unique(layer.name), inputs, { T: float }) : g.node('AddN', g.unique(layer.name), inputs, { T: float, N: intAttr(g, pb, inputs.length) });
        break;
      case 'Concatenate': {
        const axis = Number(c.axis ?? -1);
        if (axis !== -1 && axis !== 3) throw new UnsupportedLayerError(`${layer.name}: concatenation on axis ${axis}`);
        out = g.node('ConcatV2', g.unique(layer.name), [...inputs, g.constant(`${layer.name}/axis`, Int32Array.from([3]), [])], {
          T: float,
          N: intAttr(g, pb, inputs.length),
          Tidx: g.type('DT_INT32'),
        });
        break;
      }
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        const [ph, pw] = pair(c.poolSize, `${layer.name} pool size`);
        const [sh, sw] = pair(c.strides ?? c.poolSize, `${layer.name} strides`);
        out = g.node(cls === 'AveragePooling2D' ? 'AvgPool' : 'MaxPool', g.unique(layer.name), [inputs[0]], {
          T: float,
          ksize: g.ints([1, ph, pw, 1]),
          strides: g.ints([1, sh, sw, 1]),
          padding: g.string(c.padding === 'same' ? 'SAME' : 'VALID'),
          data_format: nhwc,
        });
        break;
      }
      case 'GlobalAveragePooling2D':
        out = g.node('Mean', g.unique(layer.name), [inputs[0], g.constant(`${layer.name}/axes`, Int32Array.from([1, 2]), [2])], {
          T: float,
          Tidx: g.type('DT_INT32'),
          keep_dims: boolAttr(pb, false),
        });
        break;
      default:
        throw new UnsupportedLayerError(`${layer.name}: layer class ${cls}`);
    }
    outputs.set(layer.name, out);
    if (layer.name === last) break;
  }
  const result = outputs.get(last);
  if (result === undefined) throw new UnsupportedLayerError(`${last} was not reached`);
  const outputName = g.node('Identity', SAVED_MODEL_OUTPUT, [result], { T: float });

  const meta = new pb.MetaGraphDef();
  const info = new pb.MetaGraphDef.MetaInfoDef();
  info.addTags('serve');
  info.setTensorflowVersion('2.18.1');
  meta.setMetaInfoDef(info);
  meta.setGraphDef(g.build());
  const signature = new pb.SignatureDef();
  const tensorInfo = (name: string, dims?: number[]) => {
    const t = new pb.TensorInfo();
    t.setName(`${name}:0`);
    t.setDtype(pb.DataType.DT_FLOAT);
    if (dims) t.setTensorShape(g.shape(dims));
    return t;
  };
  signature.getInputsMap().set(SAVED_MODEL_INPUT, tensorInfo(inputName, inputShape.map((d) => d ?? -1)));
  const outputShape = byName.get(last)!.outputShape;
  if (!Array.isArray(outputShape) || Array.isArray(outputShape[0])) throw new UnsupportedLayerError(`${last} has several outputs`);
  signature.getOutputsMap().set(SAVED_MODEL_OUTPUT, tensorInfo(outputName, (outputShape as (number | null)[]).map((d) => d ?? -1)));
  signature.setMethodName('tensorflow/serving/predict');
  meta.getSignatureDefMap().set('serving_default', signature);
  const saved = new pb.SavedModel();
  saved.setSavedModelSchemaVersion(1);
  saved.addMetaGraphs(meta);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'saved_model.pb'), saved.serializeBinary());
  return { input: inputName, output: outputName };
}

function intAttr(_g: GraphBuilder, pb: ProtoClasses, value: number) {
  const a = new pb.AttrValue();
  a.setI(value);
  return a;
}

function boolAttr(pb: ProtoClasses, value: boolean) {
  const a = new pb.AttrValue();
  a.setB(value);
  return a;
}
