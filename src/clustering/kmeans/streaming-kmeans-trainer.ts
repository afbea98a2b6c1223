/**
 * Streaming mini-batch k-means with forgetting, the update of Spark Streaming's and Flink ML's
 * online k-means: each centre carries a weight n; a mini-batch that puts m rows with sum x_sum in
 * a cluster moves its centre to (c n a + x_sum) / (n a + m) and its weight to n a + m, where the
 * decay a in [0, 1] discounts the past once per mini-batch ('batches') or once per row
 * ('points', a^m). a = 1 never forgets; a = 0 keeps only the newest mini-batch.
 *
 * The first round seeds the centres with k-means++ on its window; every round then feeds its
 * window through the update, `epochs` times in a fresh random order. A round works on copies and
 * only publishes them when it completes, so a failed or aborted round leaves the trainer as it was.
 */
import { TemiError } from '../../runtime/errors.ts';
import type { ClusterTrainer, TrainingSet, TrainRoundOptions, TrainRoundResult } from '../contracts.ts';
import { SeededRandom, roundSeed } from '../../numeric/seeded-random.ts';
import { roundEpochs } from '../round-epochs.ts';
import { kmeansPlusPlus } from './kmeans-plus-plus.ts';
import { KMeansModel, normaliseRows, type KMeansMetric } from './kmeans-model.ts';
import { rowDot, squaredRowNorms } from './nearest-centre.ts';
import { decodeFloat64, encodeFloat64 } from '../float-codec.ts';

export interface StreamingKMeansOptions {
  readonly numClusters: number;
  /** Discount of the past per time unit, in [0, 1]. Default 1 (no forgetting, Spark's default). */
  readonly decayFactor?: number;
  readonly timeUnit?: 'batches' | 'points';
  /** Rows per mini-batch update. Default 256. */
  readonly batchSize?: number;
  /** Default 'euclidean' on the raw embeddings; 'cosine' trains on unit-length rows (spherical k-means). */
  readonly metric?: KMeansMetric;
  /** Softmax temperature of the served confidence; 'auto' (default) = mean squared distance to the centre over the last epoch. */
  readonly temperature?: number | 'auto';
  readonly seed?: number;
}

/** What snapshot() returns: everything a restarted trainer needs to continue where it stopped. */
export interface StreamingKMeansSnapshot {
  readonly format: 'kmeans-streaming/1';
  readonly numClusters: number;
  readonly dim: number;
  readonly rounds: number;
  /** base64 little-endian float64, numClusters x dim. */
  readonly centres: string;
  /** base64 little-endian float64, numClusters. */
  readonly weights: string;
}

interface TrainerState {
  readonly dim: number;
  readonly centres: Float64Array;
  readonly weights: Float64Array;
  readonly rounds: number;
}

// A cluster whose weight falls below this share of the largest is dead: it takes over half of
// the largest cluster (as Spark does) so k clusters stay in use.
const DYING_WEIGHT_RATIO = 1e-8;
const BATCHES_BETWEEN_YIELDS = 32;
const KNOWN_OPTIONS = new Set(['numClusters', 'decayFactor', 'timeUnit', 'batchSize', 'metric', 'temperature', 'seed']);

export class StreamingKMeansTrainer implements ClusterTrainer {
  readonly name = 'kmeans';
  private readonly numClusters: number;
  private readonly decayFactor: number;
  private readonly timeUnit: 'batches' | 'points';
  private readonly batchSize: number;
  private readonly metric: KMeansMetric;
  private readonly temperature: number | 'auto';
  private readonly seed: number;
  private state: TrainerState | undefined;

  constructor(options: StreamingKMeansOptions) {
    const where = 'StreamingKMeansTrainer';
    const fail = (path: string, message: string): never => {
      throw new TemiError('TS_ERR_KMEANS_OPTION', message, { where: `${where}: ${path}` });
    };
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) fail(key, `unknown option; expected one of ${[...KNOWN_OPTIONS].join(', ')}`);
    }
    this.numClusters = options.numClusters;
    this.decayFactor = options.decayFactor ?? 1;
    this.timeUnit = options.timeUnit ?? 'batches';
    this.batchSize = options.batchSize ?? 256;
    this.metric = options.metric ?? 'euclidean';
    this.temperature = options.temperature ?? 'auto';
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.numClusters) || this.numClusters < 1) fail('numClusters', `must be a positive integer, got ${this.numClusters}`);
    if (!(this.decayFactor >= 0 && this.decayFactor <= 1)) fail('decayFactor', `must lie in [0, 1], got ${this.decayFactor}`);
    if (this.timeUnit !== 'batches' && this.timeUnit !== 'points') fail('timeUnit', `must be 'batches' or 'points', got ${String(this.timeUnit)}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) fail('batchSize', `must be a positive integer, got ${this.batchSize}`);
    if (this.metric !== 'euclidean' && this.metric !== 'cosine') fail('metric', `must be 'euclidean' or 'cosine', got ${String(this.metric)}`);
    if (this.temperature !== 'auto' && !(this.temperature > 0 && Number.isFinite(this.temperature))) fail('temperature', `must be 'auto' or a positive number, got ${this.temperature}`);
    if (!Number.isInteger(this.seed)) fail('seed', `must be an integer, got ${this.seed}`);
  }

  async trainRound(data: TrainingSet, options: TrainRoundOptions): Promise<TrainRoundResult> {
    const started = performance.now();
    const { count, dim } = data;
    const k = this.numClusters;
    this.checkWindow(data);
    const epochs = roundEpochs(options, Math.ceil(count / this.batchSize), 'kmeans');
    const random = new SeededRandom(roundSeed(this.seed, this.state?.rounds ?? 0));
    const rows = Float32Array.from(data.embeddings);
    if (this.metric === 'cosine') normaliseRows(rows, count, dim);
    const rowNorms = squaredRowNorms(rows, count, dim);

    const centres = this.state ? Float64Array.from(this.state.centres) : kmeansPlusPlus(rows, count, dim, k, rowNorms, random);
    const weights = this.state ? Float64Array.from(this.state.weights) : new Float64Array(k);
    const sums = new Float64Array(k * dim);
    const sizes = new Float64Array(k);
    const centreNorms = new Float64Array(k);

    let meanLoss = NaN;
    let batches = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = random.permutation(count);
      let lossSum = 0;
      for (let start = 0; start < count; start += this.batchSize) {
        throwIfAborted(options.signal);
        const end = Math.min(start + this.batchSize, count);
        sums.fill(0);
        sizes.fill(0);
        for (let c = 0; c < k; c++) centreNorms[c] = rowDot(centres, c * dim, centres, c * dim, dim);
        for (let b = start; b < end; b++) {
          const i = order[b];
          let best = 0;
          let bestScore = Infinity;
          for (let c = 0; c < k; c++) {
            const score = centreNorms[c] - 2 * rowDot(rows, i * dim, centres, c * dim, dim);
            if (score < bestScore) {
              bestScore = score;
              best = c;
            }
          }
          lossSum += Math.max(rowNorms[i] + bestScore, 0);
          sizes[best] += 1;
          for (let d = 0; d < dim; d++) sums[best * dim + d] += rows[i * dim + d];
        }
        this.applyUpdate(centres, weights, sums, sizes, end - start, dim);
        if (++batches % BATCHES_BETWEEN_YIELDS === 0) await yieldToEventLoop();
      }
      meanLoss = lossSum / count;
      if (!Number.isFinite(meanLoss)) {
        throw new TemiError('TS_ERR_TRAIN_NON_FINITE', `k-means loss became ${meanLoss} in epoch ${epoch}; the window holds non-finite embeddings`, {
          where: 'StreamingKMeansTrainer.trainRound',
        });
      }
      options.onEpoch?.({ epoch, meanLoss });
      await yieldToEventLoop();
    }

    this.state = { dim, centres, weights, rounds: (this.state?.rounds ?? 0) + 1 };
    const temperature = this.temperature === 'auto' ? Math.max(meanLoss, Number.MIN_VALUE) : this.temperature;
    const model = new KMeansModel(k, dim, Float32Array.from(centres), this.metric, temperature);
    return { model, meanLoss, epochs, samples: count * epochs, seconds: (performance.now() - started) / 1000 };
  }

  /** The forgetful weighted-mean update for one mini-batch of `batchRows` rows. */
  private applyUpdate(centres: Float64Array, weights: Float64Array, sums: Float64Array, sizes: Float64Array, batchRows: number, dim: number): void {
    const k = this.numClusters;
    const discount = this.timeUnit === 'batches' ? this.decayFactor : this.decayFactor ** batchRows;
    for (let c = 0; c < k; c++) {
      weights[c] *= discount;
      const m = sizes[c];
      if (m === 0) continue;
      const updated = weights[c] + m;
      // Share of the new centre that comes from this batch's mean.
      const step = m / Math.max(updated, 1e-16);
      const base = c * dim;
      for (let d = 0; d < dim; d++) centres[base + d] = (1 - step) * centres[base + d] + (step / m) * sums[base + d];
      weights[c] = updated;
      if (this.metric === 'cosine') normaliseCentre(centres, base, dim);
    }
    let largest = 0;
    let smallest = 0;
    for (let c = 1; c < k; c++) {
      if (weights[c] > weights[largest]) largest = c;
      if (weights[c] < weights[smallest]) smallest = c;
    }
    if (k > 1 && weights[largest] > 0 && weights[smallest] < DYING_WEIGHT_RATIO * weights[largest]) {
      // Split the largest cluster in two: both halves start on its centre, nudged apart so the
      // next batches can pull them to different sides of it.
      const shared = (weights[largest] + weights[smallest]) / 2;
      weights[largest] = shared;
      weights[smallest] = shared;
      for (let d = 0; d < dim; d++) {
        const x = centres[largest * dim + d];
        const nudge = 1e-14 * Math.max(Math.abs(x), 1);
        centres[largest * dim + d] = x + nudge;
        centres[smallest * dim + d] = x - nudge;
      }
    }
  }

  private checkWindow(data: TrainingSet): void {
    const where = 'StreamingKMeansTrainer.trainRound';
    const { count, dim } = data;
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(dim) || dim < 1 || data.embeddings.length !== count * dim) {
      throw new TemiError('TS_ERR_KMEANS_SHAPE', `training window must hold count x dim values (${count} x ${dim}), got ${data.embeddings.length}`, { where });
    }
    if (this.state && this.state.dim !== dim) {
      throw new TemiError('TS_ERR_KMEANS_DIM', `this trainer's centres have dimension ${this.state.dim}; the window's embeddings have ${dim}`, { where });
    }
    if (!this.state && count < this.numClusters) {
      throw new TemiError('TS_ERR_KMEANS_CLUSTERS', `the first round seeds ${this.numClusters} centres from the window, which holds only ${count} rows`, { where });
    }
  }

  snapshot(): StreamingKMeansSnapshot | null {
    if (!this.state) return null;
    return {
      format: 'kmeans-streaming/1',
      numClusters: this.numClusters,
      dim: this.state.dim,
      rounds: this.state.rounds,
      centres: encodeFloat64(this.state.centres),
      weights: encodeFloat64(this.state.weights),
    };
  }

  restore(state: unknown): void {
    const where = 'StreamingKMeansTrainer.restore';
    if (state === null) {
      this.state = undefined;
      return;
    }
    const s = state as Partial<StreamingKMeansSnapshot>;
    if (typeof s !== 'object' || s.format !== 'kmeans-streaming/1') {
      throw new TemiError('TS_ERR_TRAINER_STATE', "expected a 'kmeans-streaming/1' snapshot", { where });
    }
    if (s.numClusters !== this.numClusters) {
      throw new TemiError('TS_ERR_TRAINER_STATE', `snapshot has ${s.numClusters} clusters; this trainer is configured for ${this.numClusters}`, { where });
    }
    const dim = s.dim as number;
    if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(s.rounds) || (s.rounds as number) < 0) {
      throw new TemiError('TS_ERR_TRAINER_STATE', `snapshot has an invalid dim (${s.dim}) or round count (${s.rounds})`, { where });
    }
    this.state = {
      dim,
      rounds: s.rounds as number,
      centres: decodeFloat64(s.centres, this.numClusters * dim, `${where}: centres`),
      weights: decodeFloat64(s.weights, this.numClusters, `${where}: weights`),
    };
  }

  dispose(): void {
    this.state = undefined;
  }
}

function normaliseCentre(centres: Float64Array, base: number, dim: number): void {
  const norm = Math.sqrt(rowDot(centres, base, centres, base, dim));
  if (norm === 0) return;
  for (let d = 0; d < dim; d++) centres[base + d] /= norm;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new TemiError('TS_ERR_TRAIN_ABORTED', 'the training round was aborted; the previous model stays in service', {
      where: 'StreamingKMeansTrainer.trainRound',
      cause: signal.reason,
    });
  }
}

/** Training is CPU-bound: give timers, heartbeats and I/O a turn between chunks of work. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
