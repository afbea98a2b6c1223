/**
 * Small real models for tests: a Keras-style LayersModel built and saved with TF.js, and a
 * GraphModel written in the converter's model.json format (a GraphDef as JSON plus a weights
 * file), so file:// loading, layer/node selection and tensor hygiene are exercised on real
 * artifacts without the cost of MobileNetV2.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SeededRandom } from '../../../src/numeric/seeded-random.ts';
import { registerFileSystemRouter } from '../../../src/tf/file-io-handler.ts';
import { tf } from '../../../src/tf/tf.ts';

/** input [size, size, channels] -> conv 3x3 (8, relu) -> global average pool "features" -> dense 4 "head". */
export function buildTinyLayersModel(size: number, channels: number, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, channels], name: 'image' });
  const conv = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros' });
  const pool = tf.layers.globalAveragePooling2d({ name: 'features' });
  const head = tf.layers.dense({ units: 4, activation: 'softmax', name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) });
  const output = head.apply(pool.apply(conv.apply(input))) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  registerFileSystemRouter();
  await model.save(`file://${dir}`);
  return path.join(dir, 'model.json');
}

export interface TinyGraphWeights {
  /** [3, 3, channels, 4] */
  readonly filter: Float32Array;
  /** [4, 2] */
  readonly dense: Float32Array;
  readonly channels: number;
}

/**
 * Writes a GraphModel: image (Placeholder [-1, -1, -1, channels]) -> Conv2D 3x3 SAME -> Relu ->
 * Mean over H, W = node "features" [-1, 4] -> MatMul = node "logits" [-1, 2].
 */
export async function writeTinyGraphModel(dir: string, channels: number, seed: number): Promise<{ modelJson: string; weights: TinyGraphWeights }> {
  const random = new SeededRandom(seed);
  const filter = Float32Array.from({ length: 3 * 3 * channels * 4 }, () => random.normal() * 0.5);
  const dense = Float32Array.from({ length: 4 * 2 }, () => random.normal());
  const axes = Int32Array.from([1, 2]);
  const float = { type: 'DT_FLOAT' };
  const text = (s: string) => ({ s: Buffer.from(s).toString('base64') });
  const dims = (...sizes: number[]) => ({ dim: sizes.map((size) => ({ size: String(size) })) });
  const constant = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', shape: number[]) => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: dims(...shape) } }, dtype: { type: dtype } },
  });
  const topology = {
    node: [
      { name: 'image', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(-1, -1, -1, channels) } } },
      constant('conv/filter', 'DT_FLOAT', [3, 3, channels, 4]),
      constant('features/axes', 'DT_INT32', [2]),
      constant('head/kernel', 'DT_FLOAT', [4, 2]),
      {
        name: 'conv/Conv2D',
        op: 'Conv2D',
        input: ['image', 'conv/filter'],
        attr: { T: float, strides: { list: { i: ['1', '1', '1', '1'] } }, dilations: { list: { i: ['1', '1', '1', '1'] } }, padding: text('SAME'), data_format: text('NHWC'), use_cudnn_on_gpu: { b: true } },
      },
      { name: 'conv/Relu', op: 'Relu', input: ['conv/Conv2D'], attr: { T: float } },
      { name: 'features', op: 'Mean', input: ['conv/Relu', 'features/axes'], attr: { T: float, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
      { name: 'logits', op: 'MatMul', input: ['features', 'head/kernel'], attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } } },
    ],
    library: {},
    versions: { producer: 1482 },
  };
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'test/embedding/support/tiny-models.ts',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'conv/filter', shape: [3, 3, channels, 4], dtype: 'float32' },
          { name: 'features/axes', shape: [2], dtype: 'int32' },
          { name: 'head/kernel', shape: [4, 2], dtype: 'float32' },
        ],
      },
    ],
  };
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.concat([Buffer.from(filter.buffer), Buffer.from(axes.buffer), Buffer.from(dense.buffer)]);
  await writeFile(path.join(dir, 'weights.bin'), bytes);
  const file = path.join(dir, 'model.json');
  await writeFile(file, JSON.stringify(modelJson));
  return { modelJson: file, weights: { filter, dense, channels } };
}
