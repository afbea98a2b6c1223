import { TemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import type { ClusterTrainer, TrainingSet, TrainRoundOptions, TrainRoundResult } from '../contracts.ts';
import { SeededRandom, roundSeed } from '../../numeric/seeded-random.ts';
import { roundEpochs } from '../round-epochs.ts';
import { ADAMW_DEFAULTS, AdamW } from './adamw.ts';
import { type HeadDimensions, PARAMETER_NAMES, type ParameterName, headDimensions, parameterSpecs } from './head-layout.ts';
import { headLogits } from './head-forward.ts';
import { HeadNetwork, VariableCheckpoint } from './head-network.ts';
import { SEEDED_DRAWS } from './seeded-draws.ts';
import { type TemiConfig, resolveTemiConfig } from './temi-config.ts';
import type { TemiDraws } from './temi-draws.ts';
import { teacherTargets, temiHeadLosses } from './temi-loss.ts';
import { TEMI_TRAINER_NAME, TemiModel } from './temi-model.ts';
import { type Standardization, fitStandardization, standardize } from './standardization.ts';
import { type TemiTrainerSnapshot, readTrainerSnapshot, writeTrainerSnapshot } from './trainer-snapshot.ts';

/** Everything that exists once the input dimension is known (the first round). */
interface TrainerCore {
  readonly dims: HeadDimensions;
  readonly network: HeadNetwork;
  readonly optimiser: AdamW;
  readonly standardization: Standardization | undefined;
}

/** Counters that move with training and must roll back with it. */
interface Progress {
  /** Epochs trained over the trainer's whole life (drives warm-up and the last-layer freeze). */
  epochs: number;
  rounds: number;
  steps: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * TEMI (Adaloglou et al., BMVC 2023) over frozen embeddings, per shared/TEMI.md: H heads trained
 * at once as a student with an EMA teacher; the teacher's best head (lowest mean loss over the
 * last epoch) serves. State carries over between rounds, so each round warm-starts.
 */
export class TemiTrainer implements ClusterTrainer {
  readonly name = TEMI_TRAINER_NAME;
  readonly config: TemiConfig;
  private core: TrainerCore | undefined;
  private progress: Progress = { epochs: 0, rounds: 0, steps: 0 };

  /** `draws`: where initial heads and training pairs come from; the seeded defaults unless replaying recorded draws. */
  constructor(config: Partial<TemiConfig> = {}, private readonly draws: TemiDraws = SEEDED_DRAWS) {
    this.config = resolveTemiConfig(config);
  }

  /** Training steps taken over the trainer's life (for tests and metrics). */
  get stepsTaken(): number {
    return this.progress.steps;
  }

  get epochsTaken(): number {
    return this.progress.epochs;
  }

  async trainRound(data: TrainingSet, options: TrainRoundOptions): Promise<TrainRoundResult> {
    this.validate(data);
    const started = performance.now();
    const pairs = this.draws.pairs(data.neighbours, data.count);
    const epochs = roundEpochs(options, pairs.stepsPerEpoch(this.config.batchSize), 'temi');
    const core = this.core ?? this.createCore(data);
    const random = new SeededRandom(roundSeed(this.config.seed, this.progress.rounds));
    const checkpoint = new VariableCheckpoint(core.network.variables());
    const moments = core.optimiser.checkpoint();
    const before = { progress: { ...this.progress }, adamSteps: core.optimiser.stepCounts() };
    const inputs = tf.tidy(() => standardize(tf.tensor2d(data.embeddings, [data.count, data.dim]), core.standardization));
    try {
      let lastEpochLosses = new Float64Array(this.config.heads);
      let samples = 0;
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const steps = pairs.epochSteps(this.config.batchSize, random);
        const sums = new Float64Array(this.config.heads);
        for (let s = 0; s < steps.length; s++) {
          if (options.signal?.aborted) {
            throw new TemiError('TS_ERR_TRAIN_ABORTED', 'the training round was aborted', { where: 'temi', cause: options.signal.reason });
          }
          const learningRate = this.learningRate(s / steps.length);
          const losses = this.step(core, inputs, steps[s], learningRate);
          for (let h = 0; h < losses.length; h++) sums[h] += losses[h];
          samples += steps[s].length / 2;
          this.progress.steps += 1;
          await yieldToEventLoop();
        }
        this.progress.epochs += 1;
        lastEpochLosses = sums.map((sum) => sum / steps.length);
        options.onEpoch?.({ epoch, meanLoss: mean(lastEpochLosses) });
      }
      this.progress.rounds += 1;
      this.core = core;
      const best = argMin(lastEpochLosses);
      return {
        model: this.servingModel(core, best),
        meanLoss: lastEpochLosses[best],
        epochs,
        samples,
        seconds: (performance.now() - started) / 1000,
      };
    } catch (error) {
      checkpoint.restore();
      moments.restore();
      core.optimiser.setStepCounts(before.adamSteps);
      this.progress = before.progress;
      if (!this.core) disposeCore(core);
      throw error;
    } finally {
      checkpoint.dispose();
      moments.dispose();
      inputs.dispose();
    }
  }

  snapshot(): TemiTrainerSnapshot {
    return writeTrainerSnapshot(this.config, this.progress, this.core);
  }

  restore(state: unknown): void {
    const read = readTrainerSnapshot(state, this.config);
    if (this.core) disposeCore(this.core);
    this.core = undefined;
    this.progress = { ...read.progress };
    if (!read.core) return;
    const dims = headDimensions(this.config, read.core.dim);
    const core = this.assembleCore(dims, read.core.student, read.core.standardization);
    tf.tidy(() => {
      const specs = parameterSpecs(dims);
      for (const name of PARAMETER_NAMES) core.network.teacher[name].assign(tf.tensor(read.core!.teacher[name], specs[name].shape));
      core.network.marginal.assign(tf.tensor(read.core!.marginal, core.network.marginal.shape));
    });
    core.optimiser.importState(read.core.optimiser);
    this.core = core;
  }

  dispose(): void {
    if (this.core) disposeCore(this.core);
    this.core = undefined;
  }

  /** Linear warm-up over the trainer's first `warmupEpochs` epochs (from 0, as the reference), then the peak. */
  private learningRate(fractionOfEpoch: number): number {
    const peak = (this.config.learningRate * this.config.batchSize) / 256;
    if (this.config.warmupEpochs <= 0) return peak;
    return peak * Math.min(1, (this.progress.epochs + fractionOfEpoch) / this.config.warmupEpochs);
  }

  /** One optimiser step on 2B rows (anchors then neighbours); returns each head's loss. */
  private step(core: TrainerCore, inputs: tf.Tensor2D, rows: Int32Array, learningRate: number): Float32Array {
    const c = this.config;
    const { network, optimiser } = core;
    const trainLastLayer = this.progress.epochs >= c.freezeLastLayerEpochs;
    const trainable = PARAMETER_NAMES.filter((name) => trainLastLayer || !parameterSpecs(core.dims)[name].lastLayer);
    const nameOf = new Map(trainable.map((name) => [network.student[name].name, name]));
    return tf.tidy(() => {
      const batch = tf.gather(inputs, tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
      const targets = teacherTargets(headLogits(network.teacher, batch, c.heads, c.hidden), network.marginal as tf.Tensor3D, c.teacherTemperature, c.marginalMomentum);
      let headLosses: tf.Tensor1D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        headLosses = tf.keep(temiHeadLosses(headLogits(network.student, batch, c.heads, c.hidden), targets, c.beta, c.studentTemperature));
        return tf.mean(headLosses) as tf.Scalar;
      }, trainable.map((name) => network.student[name]));
      const losses = headLosses!.dataSync() as Float32Array;
      headLosses!.dispose();
      value.dispose();
      if (!losses.every(Number.isFinite)) {
        throw new TemiError('TS_ERR_TRAIN_NON_FINITE_LOSS', `the loss became non-finite at step ${this.progress.steps + 1}; the round was rolled back`, {
          where: 'temi',
          details: { headLosses: Array.from(losses), learningRate },
        });
      }
      network.marginal.assign(targets.marginal);
      const byName = new Map<string, tf.Tensor>();
      for (const [variableName, gradient] of Object.entries(grads)) byName.set(nameOf.get(variableName)!, gradient);
      optimiser.step(byName, learningRate);
      network.updateTeacher(c.teacherMomentum);
      return Float32Array.from(losses);
    });
  }

  private createCore(data: TrainingSet): TrainerCore {
    const dims = headDimensions(this.config, data.dim);
    const initial = this.draws.initialHeads(dims, new SeededRandom(this.config.seed));
    const standardization = this.config.standardize ? fitStandardization(data.embeddings, data.count, data.dim) : undefined;
    return this.assembleCore(dims, initial, standardization);
  }

  private assembleCore(dims: HeadDimensions, initial: Record<ParameterName, Float32Array>, standardization: Standardization | undefined): TrainerCore {
    const network = new HeadNetwork(dims, initial);
    const specs = parameterSpecs(dims);
    const optimiser = new AdamW(
      PARAMETER_NAMES.map((name) => ({ name, variable: network.student[name], decays: specs[name].decays })),
      { ...ADAMW_DEFAULTS, weightDecay: this.config.weightDecay },
    );
    return { dims, network, optimiser, standardization };
  }

  /** The teacher's head `head`, copied out to the host as an immutable serving model. */
  private servingModel(core: TrainerCore, head: number): TemiModel {
    const { dim, hidden: m, bottleneck: p, clusters } = core.dims;
    const t = core.network.teacher;
    const slices = tf.tidy(() => [
      tf.slice(t.w1, [0, head * m], [dim, m]),
      tf.slice(t.b1, [head * m], [m]),
      tf.slice(t.w2, [head, 0, 0], [1, m, p]),
      tf.slice(t.b2, [head, 0, 0], [1, 1, p]),
      tf.slice(tf.mul(tf.div(t.v, tf.sqrt(tf.sum(tf.square(t.v), 1, true))), t.g), [head, 0, 0], [1, p, clusters]),
    ]);
    // Read outside the tidy: tf.tidy walks what its function returns, index by index for a typed
    // array, which over w1's 400k values took ~170 ms a round.
    const [w1, b1, w2, b2, last] = slices.map((x) => {
      const values = Float32Array.from(x.dataSync() as Float32Array);
      x.dispose();
      return values;
    });
    return new TemiModel({
      dim,
      hidden: m,
      bottleneck: p,
      clusters,
      temperature: this.config.teacherTemperature,
      w1,
      b1,
      w2,
      b2,
      last,
      standardization: core.standardization,
    });
  }

  private validate(data: TrainingSet): void {
    if (!Number.isInteger(data.count) || data.count < 2 || !Number.isInteger(data.dim) || data.dim < 1) {
      throw new TemiError('TS_ERR_TRAIN_DATA_INVALID', `expected at least 2 rows of dim >= 1, found ${data.count} x ${data.dim}`, { where: 'data' });
    }
    if (data.embeddings.length !== data.count * data.dim) {
      throw new TemiError('TS_ERR_TRAIN_DATA_INVALID', `expected ${data.count * data.dim} floats, found ${data.embeddings.length}`, {
        where: 'data.embeddings',
      });
    }
    if (this.core && this.core.dims.dim !== data.dim) {
      throw new TemiError('TS_ERR_TRAIN_DATA_INVALID', `this trainer's heads take dim ${this.core.dims.dim}, found ${data.dim}`, { where: 'data.dim' });
    }
  }
}

function disposeCore(core: TrainerCore): void {
  core.network.dispose();
  core.optimiser.dispose();
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

function argMin(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  return best;
}
