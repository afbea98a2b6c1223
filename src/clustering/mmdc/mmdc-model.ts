import { TemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import type { Assignment, ClusterModel, SerializedClusterModel } from '../contracts.ts';
import { decodeFloat32, encodeFloat32 } from '../float-codec.ts';
import type { MmdcTrunk } from './mmdc-config.ts';
import { type HostTensors, embedPlain } from './mmdc-network.ts';
import { HEAD_BIAS, HEAD_WEIGHT, TRAINING_ONLY, type TrunkLayout, type TrunkShape, sizeOf, statisticSpecs, trunkLayout } from './trunk-layout.ts';

export const MMDC_TRAINER_NAME = 'mmdc';
const MODEL_FORMAT = 'mmdc-trunk/1';
/**
 * Temperature of the confidence: softmax over the k means of cos(f, mu_j) / 0.1, i.e. of
 * -||f - mu_j||^2 / 0.2 (unit vectors). An output on a mean scores ~1; one halfway between two
 * means 0.5. The cluster itself is the nearest mean, as the official get_labels.
 */
const CONFIDENCE_TEMPERATURE = 0.1;

export interface MmdcModelWeights extends TrunkShape {
  readonly clusters: number;
  readonly inferenceCrop: number;
  /** Trunk and projection head parameters (the rotation head is training-only). */
  readonly params: HostTensors;
  /** Batch-norm running statistics. */
  readonly stats: HostTensors;
}

interface SerializedMmdcState {
  readonly format: string;
  readonly trunk: MmdcTrunk;
  readonly imageShape: readonly number[];
  readonly widths: readonly number[];
  readonly outputDim: number;
  readonly inferenceCrop: number;
  readonly params: Record<string, string>;
  readonly stats: Record<string, string>;
}

/**
 * A trained MMDC network as a servable model: its rows are decoded images (flattened HWC in
 * [0, 1], as the pixels embedder emits them); `assign` runs the trunk on the plain view and picks
 * the nearest GMM mean; `embed` returns the unit-sphere features themselves.
 */
export class MmdcModel implements ClusterModel {
  readonly trainer = MMDC_TRAINER_NAME;
  readonly numClusters: number;
  readonly dim: number;
  readonly featureDim: number;
  readonly layout: TrunkLayout;
  private readonly params: Record<string, tf.Tensor>;
  private readonly stats: Record<string, tf.Tensor>;
  private disposed = false;

  constructor(readonly weights: MmdcModelWeights) {
    this.layout = trunkLayout(weights.trunk, weights.imageShape, weights.widths, weights.outputDim);
    const [h, w, c] = weights.imageShape;
    this.dim = h * w * c;
    this.numClusters = weights.clusters;
    this.featureDim = weights.outputDim;
    const specs = this.layout.parameters.filter((p) => !TRAINING_ONLY.has(p.name));
    this.params = Object.fromEntries(specs.map((p) => [p.name, tf.tensor(weights.params[p.name], [...p.shape])]));
    this.stats = Object.fromEntries(statisticSpecs(this.layout).map((s) => [s.name, tf.tensor1d(weights.stats[s.name])]));
  }

  /** Unit-sphere trunk features of `count` images (count x featureDim). */
  embed(images: Float32Array, count: number): Float32Array {
    this.check(images, count, 'mmdc.embed');
    return embedPlain(this.layout, this.params, this.stats, images, count, this.weights.inferenceCrop);
  }

  assign(images: Float32Array, count: number): Assignment {
    const features = this.embed(images, count);
    return assignNearestMean(features, count, this.featureDim, this.numClusters);
  }

  /** Output cluster c becomes permutation[c]: the head's first k output columns are permuted. */
  withPermutation(permutation: Int32Array): ClusterModel {
    const k = this.numClusters;
    const seen = new Uint8Array(k);
    if (permutation.length !== k || !permutation.every((to) => to >= 0 && to < k && seen[to]++ === 0)) {
      throw new TemiError('TS_ERR_MODEL_PERMUTATION_INVALID', `expected a permutation of 0..${k - 1}`, { where: 'mmdc.withPermutation' });
    }
    const d = this.featureDim;
    const weight = this.weights.params[HEAD_WEIGHT];
    const bias = this.weights.params[HEAD_BIAS];
    const newWeight = weight.slice();
    const newBias = bias.slice();
    const rows = weight.length / d;
    for (let from = 0; from < k; from++) {
      newBias[permutation[from]] = bias[from];
      for (let r = 0; r < rows; r++) newWeight[r * d + permutation[from]] = weight[r * d + from];
    }
    return new MmdcModel({ ...this.weights, params: { ...this.weights.params, [HEAD_WEIGHT]: newWeight, [HEAD_BIAS]: newBias } });
  }

  serialize(): SerializedClusterModel {
    const w = this.weights;
    const state: SerializedMmdcState = {
      format: MODEL_FORMAT,
      trunk: w.trunk,
      imageShape: [...w.imageShape],
      widths: [...w.widths],
      outputDim: w.outputDim,
      inferenceCrop: w.inferenceCrop,
      params: Object.fromEntries(Object.keys(this.params).map((name) => [name, encodeFloat32(w.params[name])])),
      stats: Object.fromEntries(Object.keys(this.stats).map((name) => [name, encodeFloat32(w.stats[name])])),
    };
    return { trainer: this.trainer, numClusters: this.numClusters, dim: this.dim, state };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...Object.values(this.params), ...Object.values(this.stats)]) t.dispose();
  }

  private check(images: Float32Array, count: number, where: string): void {
    if (this.disposed) throw new TemiError('TS_ERR_MODEL_DISPOSED', 'this model was disposed', { where: 'mmdc' });
    if (!Number.isInteger(count) || count < 0 || images.length < count * this.dim) {
      throw new TemiError('TS_ERR_MODEL_INPUT_INVALID', `expected ${count} x ${this.dim} floats, found ${images.length}`, { where });
    }
  }
}

/** Nearest one-hot mean = largest of the first k coordinates; confidence as CONFIDENCE_TEMPERATURE says. */
export function assignNearestMean(features: Float32Array, count: number, dim: number, clusters: number): Assignment {
  const cluster = new Int32Array(count);
  const confidence = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let j = 1; j < clusters; j++) if (features[i * dim + j] > features[i * dim + best]) best = j;
    let sum = 0;
    for (let j = 0; j < clusters; j++) sum += Math.exp((features[i * dim + j] - features[i * dim + best]) / CONFIDENCE_TEMPERATURE);
    cluster[i] = best;
    confidence[i] = 1 / sum;
  }
  return { cluster, confidence };
}

function invalid(where: string, message: string): never {
  throw new TemiError('TS_ERR_MODEL_INVALID', message, { where });
}

/** Rebuilds a model from `serialize()` output (e.g. read back from the model topic). */
export function deserializeMmdcModel(serialized: SerializedClusterModel): MmdcModel {
  if (serialized?.trainer !== MMDC_TRAINER_NAME) invalid('trainer', `expected a '${MMDC_TRAINER_NAME}' model, found '${String(serialized?.trainer)}'`);
  const s = serialized.state as Partial<SerializedMmdcState> | null;
  if (!s || s.format !== MODEL_FORMAT) invalid('state.format', `expected state format '${MODEL_FORMAT}', found '${String(s?.format)}'`);
  if (s.trunk !== 'cnn4' && s.trunk !== 'resnet18') invalid('state.trunk', `expected 'cnn4' or 'resnet18', found ${JSON.stringify(s.trunk)}`);
  const positive = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const shape = s.imageShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(positive)) invalid('state.imageShape', 'expected [h, w, c] of positive integers');
  if (!Array.isArray(s.widths) || !s.widths.every(positive)) invalid('state.widths', 'expected positive integers');
  if (!positive(s.outputDim)) invalid('state.outputDim', 'expected a positive integer');
  if (typeof s.inferenceCrop !== 'number' || !(s.inferenceCrop > 0 && s.inferenceCrop <= 1)) invalid('state.inferenceCrop', 'expected a fraction in (0, 1]');
  const imageShape = [shape[0], shape[1], shape[2]] as const;
  if (serialized.dim !== imageShape[0] * imageShape[1] * imageShape[2]) invalid('dim', `expected h * w * c = ${imageShape[0] * imageShape[1] * imageShape[2]}, found ${serialized.dim}`);
  if (!positive(serialized.numClusters) || serialized.numClusters > s.outputDim) invalid('numClusters', 'expected a positive integer <= outputDim');
  const layout = trunkLayout(s.trunk, imageShape, s.widths, s.outputDim);
  const params: HostTensors = {};
  for (const p of layout.parameters) if (!TRAINING_ONLY.has(p.name)) params[p.name] = decodeFloat32(s.params?.[p.name], sizeOf(p.shape), `state.params.${p.name}`, 'TS_ERR_MODEL_INVALID');
  const stats: HostTensors = {};
  for (const st of statisticSpecs(layout)) stats[st.name] = decodeFloat32(s.stats?.[st.name], st.size, `state.stats.${st.name}`, 'TS_ERR_MODEL_INVALID');
  return new MmdcModel({ trunk: s.trunk, imageShape, widths: s.widths, outputDim: s.outputDim, clusters: serialized.numClusters, inferenceCrop: s.inferenceCrop, params, stats });
}
