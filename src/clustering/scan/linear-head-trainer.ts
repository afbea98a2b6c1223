import type { ClusterTrainer, TrainRoundOptions, TrainRoundResult, TrainingSet } from '../contracts.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { roundEpochs } from '../round-epochs.ts';
import { TemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import { Adam, type AdamState } from './adam.ts';
import { decodeFloat32 } from '../float-codec.ts';
import { LinearClusterModel } from './linear-cluster-model.ts';
import { LinearHeads } from './linear-heads.ts';
import type { PairDrawer } from './pair-drawer.ts';
import { scanHeadLosses } from './scan-loss.ts';

export interface LinearHeadTrainingOptions {
  readonly numClusters: number;
  readonly heads: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly entropyWeight: number;
  readonly seed: number;
}

/** What distinguishes SCAN from TSP: how heads start and how pairs are drawn and weighted. */
export interface LinearHeadMethod {
  readonly name: string;
  initialHeads(data: TrainingSet, options: LinearHeadTrainingOptions, random: SeededRandom): Promise<{ weights: Float32Array; bias: Float32Array }>;
  pairDrawer(data: TrainingSet): PairDrawer;
}

interface SerializedTrainerState {
  readonly format: 'linear-heads/1';
  readonly trainer: string;
  readonly dim: number;
  readonly heads: number;
  readonly clusters: number;
  readonly rounds: number;
  // Float32Arrays (raw bytes beside the pipeline's snapshot.json); base64 in snapshots written before.
  readonly weights: Float32Array | string;
  readonly bias: Float32Array | string;
  readonly adamSteps: number;
  readonly adamFirst: readonly (Float32Array | string)[];
  readonly adamSecond: readonly (Float32Array | string)[];
}

interface Checkpoint {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly adam: AdamState;
  readonly rounds: number;
}

/**
 * Trains H linear heads on frozen embeddings with the SCAN objective (summed over heads, as
 * SCAN's reference does) and serves the head with the lowest mean loss over the last epoch.
 * Heads and optimiser persist between rounds, so each round warm-starts; a failed round puts
 * them back as they were.
 */
export class LinearHeadTrainer implements ClusterTrainer {
  readonly name: string;
  private heads: LinearHeads | undefined;
  private optimiser: Adam | undefined;
  private rounds = 0;

  constructor(private readonly method: LinearHeadMethod, private readonly options: LinearHeadTrainingOptions) {
    this.name = method.name;
  }

  async trainRound(data: TrainingSet, options: TrainRoundOptions): Promise<TrainRoundResult> {
    this.checkData(data);
    const started = performance.now();
    const before = this.heads ? this.checkpoint() : undefined;
    try {
      const random = new SeededRandom(this.options.seed + 7919 * this.rounds);
      if (!this.heads) await this.createHeads(data, random);
      const result = await this.runEpochs(data, options, random);
      this.rounds += 1;
      return { ...result, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      if (before) this.load(before);
      else this.disposeHeads();
      throw error;
    }
  }

  snapshot(): SerializedTrainerState | null {
    if (!this.heads || !this.optimiser) return null;
    const point = this.checkpoint();
    return {
      format: 'linear-heads/1',
      trainer: this.name,
      dim: this.heads.dim,
      heads: this.heads.heads,
      clusters: this.heads.clusters,
      rounds: point.rounds,
      weights: point.weights,
      bias: point.bias,
      adamSteps: point.adam.steps,
      adamFirst: point.adam.firstMoments,
      adamSecond: point.adam.secondMoments,
    };
  }

  restore(state: unknown): void {
    if (state === null) {
      this.disposeHeads();
      this.rounds = 0;
      return;
    }
    const where = `${this.name}.snapshot`;
    const s = state as Partial<SerializedTrainerState>;
    if (!s || s.format !== 'linear-heads/1' || s.trainer !== this.name) {
      throw new TemiError('TS_ERR_TRAINER_STATE_INVALID', `expected a linear-heads/1 snapshot of the ${this.name} trainer`, { where });
    }
    if (s.heads !== this.options.heads || s.clusters !== this.options.numClusters || typeof s.dim !== 'number') {
      throw new TemiError(
        'TS_ERR_TRAINER_STATE_INVALID',
        `the snapshot holds ${s.heads} heads of ${s.clusters} clusters, this trainer is configured for ${this.options.heads} heads of ${this.options.numClusters}`,
        { where },
      );
    }
    const code = 'TS_ERR_TRAINER_STATE_INVALID';
    const width = s.heads * s.clusters;
    const sizes = [s.dim * width, width];
    const decode = (values: readonly (Float32Array | string)[] | undefined, name: string): Float32Array[] =>
      sizes.map((size, i) => decodeFloat32(values?.[i], size, `${where}.${name}[${i}]`, code));
    const point: Checkpoint = {
      weights: decodeFloat32(s.weights, sizes[0], `${where}.weights`, code),
      bias: decodeFloat32(s.bias, sizes[1], `${where}.bias`, code),
      adam: { steps: Number(s.adamSteps ?? 0), firstMoments: decode(s.adamFirst, 'adamFirst'), secondMoments: decode(s.adamSecond, 'adamSecond') },
      rounds: Number(s.rounds ?? 0),
    };
    if (!this.heads || this.heads.dim !== s.dim) {
      this.disposeHeads();
      this.build(s.dim, point.weights, point.bias);
    }
    this.load(point);
  }

  dispose(): void {
    this.disposeHeads();
  }

  private async runEpochs(data: TrainingSet, options: TrainRoundOptions, random: SeededRandom): Promise<Omit<TrainRoundResult, 'seconds'>> {
    const heads = this.heads!;
    const sampler = this.method.pairDrawer(data);
    const batchSize = Math.min(this.options.batchSize, data.count);
    // the reference drops the last partial batch (drop_last=True)
    const steps = Math.floor(data.count / batchSize);
    const epochs = roundEpochs(options, steps, this.name);
    const epochLoss = new Float64Array(this.options.heads);
    let samples = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      epochLoss.fill(0);
      const order = random.permutation(data.count);
      for (let step = 0; step < steps; step++) {
        if (options.signal?.aborted) {
          throw new TemiError('TS_ERR_TRAIN_ABORTED', `the ${this.name} round was aborted at epoch ${epoch + 1}, step ${step + 1}`, { where: this.name });
        }
        const anchors = order.subarray(step * batchSize, (step + 1) * batchSize);
        const losses = this.step(heads, data, anchors, sampler.draw(anchors, random));
        for (let h = 0; h < losses.length; h++) {
          if (!Number.isFinite(losses[h])) {
            throw new TemiError('TS_ERR_TRAIN_NON_FINITE_LOSS', `head ${h} reached a non-finite loss (${losses[h]}) at epoch ${epoch + 1}, step ${step + 1}`, {
              where: this.name,
            });
          }
          epochLoss[h] += losses[h] / steps;
        }
        samples += anchors.length;
        // training must not starve the event loop (heartbeats, metrics)
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      options.onEpoch?.({ epoch: epoch + 1, meanLoss: Math.min(...epochLoss) });
    }
    let best = 0;
    for (let h = 1; h < epochLoss.length; h++) if (epochLoss[h] < epochLoss[best]) best = h;
    const head = heads.head(best);
    const model = new LinearClusterModel(this.name, data.dim, this.options.numClusters, head.weights, head.bias);
    return { model, meanLoss: epochLoss[best], epochs, samples };
  }

  /** One optimiser step over a batch of anchors and their drawn neighbours; returns each head's loss. */
  private step(heads: LinearHeads, data: TrainingSet, anchors: Int32Array, draw: { neighbours: Int32Array; weights?: Float32Array }): Float32Array {
    const rows = anchors.length;
    const batch = new Float32Array(2 * rows * data.dim);
    for (let b = 0; b < rows; b++) {
      batch.set(data.embeddings.subarray(anchors[b] * data.dim, (anchors[b] + 1) * data.dim), b * data.dim);
      batch.set(data.embeddings.subarray(draw.neighbours[b] * data.dim, (draw.neighbours[b] + 1) * data.dim), (rows + b) * data.dim);
    }
    let perHead: tf.Tensor1D | undefined;
    tf.tidy(() => {
      const inputs = tf.tensor2d(batch, [2 * rows, data.dim]);
      const weights = draw.weights ? tf.tensor1d(draw.weights) : undefined;
      const { grads } = tf.variableGrads(() => {
        const [anchorLogits, neighbourLogits] = tf.split(heads.logits(inputs), [rows, rows], 1) as [tf.Tensor3D, tf.Tensor3D];
        const losses = scanHeadLosses(anchorLogits, neighbourLogits, this.options.entropyWeight, weights);
        perHead = tf.keep(losses.total);
        return tf.sum(losses.total) as tf.Scalar;
      }, [heads.weights, heads.bias]);
      this.optimiser!.step([grads[heads.weights.name], grads[heads.bias.name]]);
    });
    const values = Float32Array.from(perHead!.dataSync());
    perHead!.dispose();
    return values;
  }

  private async createHeads(data: TrainingSet, random: SeededRandom): Promise<void> {
    const initial = await this.method.initialHeads(data, this.options, random);
    this.build(data.dim, initial.weights, initial.bias);
  }

  private build(dim: number, weights: Float32Array, bias: Float32Array): void {
    this.heads = new LinearHeads(dim, this.options.heads, this.options.numClusters, weights, bias);
    this.optimiser = new Adam([this.heads.weights, this.heads.bias], { learningRate: this.options.learningRate, weightDecay: this.options.weightDecay });
  }

  private checkpoint(): Checkpoint {
    const { weights, bias } = this.heads!.values();
    return { weights, bias, adam: this.optimiser!.snapshot(), rounds: this.rounds };
  }

  private load(point: Checkpoint): void {
    this.heads!.load(point.weights, point.bias);
    this.optimiser!.restore(point.adam);
    this.rounds = point.rounds;
  }

  private disposeHeads(): void {
    this.heads?.dispose();
    this.optimiser?.dispose();
    this.heads = undefined;
    this.optimiser = undefined;
  }

  private checkData(data: TrainingSet): void {
    const where = `${this.name}.trainRound`;
    if (data.count < 2) throw new TemiError('TS_ERR_TRAIN_TOO_FEW_RECORDS', `a round needs at least 2 records, found ${data.count}`, { where });
    if (data.embeddings.length !== data.count * data.dim) {
      throw new TemiError('TS_ERR_TRAIN_SHAPE', `expected ${data.count} x ${data.dim} embedding values, found ${data.embeddings.length}`, { where });
    }
    if (data.neighbours.k < 1 || data.neighbours.indices.length !== data.count * data.neighbours.k) {
      throw new TemiError('TS_ERR_TRAIN_SHAPE', `expected a ${data.count} x ${data.neighbours.k} neighbour table, found ${data.neighbours.indices.length} entries`, { where });
    }
    if (this.heads && this.heads.dim !== data.dim) {
      throw new TemiError('TS_ERR_TRAIN_DIM_CHANGED', `the heads were trained on ${this.heads.dim}-dim embeddings, this round has ${data.dim}`, { where });
    }
  }
}
