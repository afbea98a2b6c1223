import { TemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import type { ClusterTrainer, TrainingSet, TrainRoundOptions, TrainRoundResult } from '../contracts.ts';
import { SeededRandom, roundSeed } from '../../numeric/seeded-random.ts';
import { roundEpochs } from '../round-epochs.ts';
import { VariableCheckpoint } from '../temi/head-network.ts';
import { fourRotations, renderBatch, type ViewParameters } from './augment.ts';
import { matchBatchTargets } from './gmm-targets.ts';
import { type MmdcConfig, type MmdcOptions, resolveImageShape, resolveMmdcConfig } from './mmdc-config.ts';
import { type MmdcDraws, SEEDED_MMDC_DRAWS } from './mmdc-draws.ts';
import { MMDC_TRAINER_NAME, MmdcModel } from './mmdc-model.ts';
import { MmdcNetwork, plainViewsOf } from './mmdc-network.ts';
import { refinementTargets } from './refine-targets.ts';
import { type BatchMoments, rotationLogits, trunkPooled, unitFeatures } from './trunk-forward.ts';
import { HEAD_BIAS, HEAD_WEIGHT, TRAINING_ONLY, type TrunkLayout, trunkLayout } from './trunk-layout.ts';
import { SgdMomentum } from './sgd-momentum.ts';
import { type MmdcTrainerSnapshot, readMmdcSnapshot, writeMmdcSnapshot } from './trainer-snapshot.ts';

interface TrainerCore {
  readonly layout: TrunkLayout;
  readonly network: MmdcNetwork;
  readonly optimiser: SgdMomentum;
}

interface RoundRun {
  readonly history: MmdcEpochLosses[];
  readonly samples: number;
  /** Which of the round's starts this was (0 unless `restarts` > 1). */
  readonly restart: number;
}

/** Start r's seed: the configured seed for the first, a derived one (distinct from every round seed) for the others. */
function restartSeed(seed: number, restart: number): number {
  return restart === 0 ? seed : roundSeed(seed, -1 - restart);
}

interface Progress {
  epochs: number;
  rounds: number;
  steps: number;
}

/** One epoch of a round: the clustering loss (MSE to the targets) and, when one ran before it, the rotation epoch's cross-entropy. */
export interface MmdcEpochLosses {
  readonly clustering: number;
  readonly rotation?: number;
  readonly refining: boolean;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * MMDC (Shiran & Weinshall, ICPR 2020), per shared/MMDC.md and docs/MMDC.md: a ConvNet trained
 * from the window's decoded images to fixed GMM targets on the unit sphere, matched per batch by
 * the Hungarian method, with a rotation-prediction epoch every `rotationEvery` epochs and
 * k-means pseudo-targets over the round's last `refineFraction` of epochs.
 *
 * Training rows are the images themselves (flattened HWC in [0, 1], as the `pixels` embedder
 * emits them); the neighbour table is not used: MMDC's pairs are (image, target), not (image,
 * neighbour). Trunk, heads, batch-norm statistics and SGD momentum carry over between rounds.
 *
 * Targets per round: a stream's window changes every round, so per-sample targets cannot persist
 * across rounds. Each round draws fresh equal-size targets for its window in random order, as the
 * official code does at the start; the per-batch matching then hands each sample the target
 * nearest the warm network's output (targets are exchangeable within a batch), so the clusters
 * the trunk already separates survive and the equal-size pressure still applies.
 */
export class MmdcTrainer implements ClusterTrainer {
  readonly name = MMDC_TRAINER_NAME;
  readonly config: MmdcConfig;
  private core: TrainerCore | undefined;
  private progress: Progress = { epochs: 0, rounds: 0, steps: 0 };
  private history: MmdcEpochLosses[] = [];
  private restartLosses: number[] = [];
  /** The current epoch's learning rate (the rotation epoch before it shares it). */
  private rate: number;
  private plainCache: { window: Float32Array; views: Float32Array } | undefined;

  constructor(options: MmdcOptions = {}, private readonly draws: MmdcDraws = SEEDED_MMDC_DRAWS) {
    this.config = resolveMmdcConfig(options);
    this.rate = this.config.learningRate;
  }

  get stepsTaken(): number {
    return this.progress.steps;
  }

  /** The last completed round's per-epoch losses. */
  get lastRoundLosses(): readonly MmdcEpochLosses[] {
    return this.history;
  }

  /** The final clustering loss of each start of the last round (one entry unless it restarted). */
  get lastRoundRestartLosses(): readonly number[] {
    return this.restartLosses;
  }

  async trainRound(data: TrainingSet, options: TrainRoundOptions): Promise<TrainRoundResult> {
    this.validate(data);
    const c = this.config;
    const shape = this.core?.layout.imageShape ?? resolveImageShape(c, data.dim);
    if (c.rotation && shape[0] !== shape[1]) {
      throw new TemiError('TS_ERR_MMDC_CONFIG_INVALID', `the rotation task needs square images, found ${shape[0]} x ${shape[1]}; set rotation false`, { where: 'rotation' });
    }
    const started = performance.now();
    const stepsPerEpoch = Math.ceil(data.count / c.batchSize);
    const epochs = roundEpochs(options, stepsPerEpoch, 'mmdc');
    if (this.core) return this.warmRound(this.core, data, epochs, options, started);
    const before = { ...this.progress };
    let kept: { core: TrainerCore; run: RoundRun; progress: Progress } | undefined;
    const finalLosses: number[] = [];
    let samples = 0;
    try {
      for (let restart = 0; restart < c.restarts; restart++) {
        this.progress = { ...before };
        const seed = restartSeed(c.seed, restart);
        const core = this.createCore(shape, seed);
        let run: RoundRun;
        try {
          run = await this.runEpochs(core, data, epochs, seed, options);
        } catch (error) {
          disposeCore(core);
          throw error;
        }
        samples += run.samples;
        finalLosses.push(run.history[run.history.length - 1].clustering);
        if (kept && finalLosses[restart] >= finalLosses[kept.run.restart]) {
          disposeCore(core);
        } else {
          if (kept) disposeCore(kept.core);
          kept = { core, run: { ...run, restart }, progress: { ...this.progress } };
        }
      }
    } catch (error) {
      if (kept) disposeCore(kept.core);
      this.progress = before;
      throw error;
    } finally {
      this.plainCache = undefined;
    }
    const { core, run, progress } = kept!;
    this.progress = { ...progress, rounds: progress.rounds + 1 };
    this.core = core;
    this.history = run.history;
    this.restartLosses = finalLosses;
    return { model: this.servingModel(core), meanLoss: finalLosses[run.restart], epochs, samples, seconds: (performance.now() - started) / 1000 };
  }

  /** A round of the kept network; on failure its weights, statistics and momentum are put back. */
  private async warmRound(core: TrainerCore, data: TrainingSet, epochs: number, options: TrainRoundOptions, started: number): Promise<TrainRoundResult> {
    const checkpoint = new VariableCheckpoint([...core.network.variables(), ...core.optimiser.bufferVariables()]);
    const before = { ...this.progress };
    try {
      const run = await this.runEpochs(core, data, epochs, this.config.seed, options);
      this.progress.rounds += 1;
      this.history = run.history;
      this.restartLosses = [run.history[run.history.length - 1].clustering];
      return { model: this.servingModel(core), meanLoss: this.restartLosses[0], epochs, samples: run.samples, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      checkpoint.restore();
      this.progress = before;
      throw error;
    } finally {
      checkpoint.dispose();
      this.plainCache = undefined;
    }
  }

  /** The round's epochs on `core`: rotation epochs on schedule, refinement over the last ones. */
  private async runEpochs(core: TrainerCore, data: TrainingSet, epochs: number, seed: number, options: TrainRoundOptions): Promise<RoundRun> {
    const c = this.config;
    const random = new SeededRandom(roundSeed(seed, this.progress.rounds));
    const refineFrom = epochs - Math.floor(epochs * c.refineFraction);
    const decayFrom = epochs - Math.floor(epochs * c.decayFraction);
    let targets = this.draws.targets(data.count, c, random);
    const history: MmdcEpochLosses[] = [];
    let samples = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      this.rate = epoch >= decayFrom ? c.learningRate * c.decayFactor : c.learningRate;
      let rotation: number | undefined;
      if (c.rotation && epoch % c.rotationEvery === 0) {
        rotation = await this.rotationEpoch(core, data, random, options.signal);
        samples += data.count * 4;
      }
      const refining = epoch >= refineFrom;
      if (refining) {
        const outputs = core.network.embed(data.embeddings, data.count, c.inferenceCrop);
        targets = refinementTargets(outputs, data.count, c.outputDim, c.clusters, targets, roundSeed(seed, this.progress.epochs));
      }
      const clustering = await this.clusteringEpoch(core, data, targets, !refining, random, options.signal);
      samples += data.count;
      this.progress.epochs += 1;
      history.push({ clustering, ...(rotation !== undefined ? { rotation } : {}), refining });
      options.onEpoch?.({ epoch: epoch + 1, meanLoss: clustering });
    }
    return { history, samples, restart: 0 };
  }

  snapshot(): MmdcTrainerSnapshot {
    return writeMmdcSnapshot(this.config, this.progress, this.core && { imageShape: this.core.layout.imageShape, params: this.core.network.exportParams(), stats: this.core.network.exportStats(), momentum: this.core.optimiser.exportBuffers() });
  }

  restore(state: unknown): void {
    const read = readMmdcSnapshot(state, this.config);
    if (this.core) disposeCore(this.core);
    this.core = undefined;
    this.progress = { ...read.progress };
    this.history = [];
    if (!read.core) return;
    const core = this.assembleCore(read.core.layout, read.core.params, read.core.stats);
    core.optimiser.importBuffers(read.core.momentum);
    this.core = core;
  }

  dispose(): void {
    if (this.core) disposeCore(this.core);
    this.core = undefined;
  }

  /** One epoch over the window against `targets` (batch-matched first unless refining); returns the mean loss. */
  private async clusteringEpoch(core: TrainerCore, data: TrainingSet, targets: Float32Array, match: boolean, random: SeededRandom, signal?: AbortSignal): Promise<number> {
    const c = this.config;
    const d = c.outputDim;
    const order = this.draws.order(data.count, random);
    const views = this.draws.views(data.count, c, random, false);
    let sum = 0;
    let steps = 0;
    for (let start = 0; start < data.count; start += c.batchSize) {
      const rows = order.subarray(start, Math.min(start + c.batchSize, data.count));
      if (rows.length < 2) continue; // batch norm needs two samples; PyTorch's reference skips the same remainder
      this.checkAbort(signal);
      const batch = this.batchTensor(data, rows, views, start, core.layout);
      const plain = match && c.matchView === 'plain' ? core.network.embedRows(this.roundPlainViews(data, core), rows) : undefined;
      const loss = this.step(core, batch, (features) => {
        if (match) matchBatchTargets(plain ?? features, targets, rows, d);
        const batchTargets = new Float32Array(rows.length * d);
        for (let k = 0; k < rows.length; k++) batchTargets.set(targets.subarray(rows[k] * d, (rows[k] + 1) * d), k * d);
        return batchTargets;
      });
      sum += loss;
      steps += 1;
      await yieldToEventLoop();
    }
    return sum / Math.max(1, steps);
  }

  /** The rotation task's epoch: each batch's images in all four rotations, cross-entropy on the rotation head. */
  private async rotationEpoch(core: TrainerCore, data: TrainingSet, random: SeededRandom, signal?: AbortSignal): Promise<number> {
    const c = this.config;
    const [h, w, ch] = core.layout.imageShape;
    const order = this.draws.order(data.count, random);
    const views = this.draws.views(data.count, c, random, true);
    let sum = 0;
    let steps = 0;
    for (let start = 0; start < data.count; start += c.batchSize) {
      const rows = order.subarray(start, Math.min(start + c.batchSize, data.count));
      if (rows.length < 2) continue;
      this.checkAbort(signal);
      const rendered = renderBatch(data.embeddings, rows, core.layout.imageShape, views, start);
      const { images, labels } = fourRotations(rendered, rows.length, core.layout.imageShape);
      const loss = this.optimise(core, (moments) => {
        const x = tf.tensor4d(images, [labels.length, h, w, ch]);
        const logits = rotationLogits(core.network.params, trunkPooled(core.layout, core.network.params, core.network.stats, x, true, moments));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 4), logits) as tf.Scalar;
      }, true);
      sum += loss;
      steps += 1;
      await yieldToEventLoop();
    }
    return sum / Math.max(1, steps);
  }

  /** The window's plain views, rendered once per round (they do not change within it). */
  private roundPlainViews(data: TrainingSet, core: TrainerCore): Float32Array {
    if (this.plainCache?.window !== data.embeddings) {
      this.plainCache = { window: data.embeddings, views: plainViewsOf(data.embeddings, data.count, core.layout.imageShape, this.config.inferenceCrop) };
    }
    return this.plainCache.views;
  }

  private batchTensor(data: TrainingSet, rows: Int32Array, views: ViewParameters, viewOffset: number, layout: TrunkLayout): { values: Float32Array; count: number } {
    return { values: renderBatch(data.embeddings, rows, layout.imageShape, views, viewOffset), count: rows.length };
  }

  /** A clustering step: forward, `targetsFor` the batch's outputs (matching happens there), MSE, SGD. */
  private step(core: TrainerCore, batch: { values: Float32Array; count: number }, targetsFor: (features: Float32Array) => Float32Array): number {
    const [h, w, ch] = core.layout.imageShape;
    return this.optimise(core, (moments) => {
      const x = tf.tensor4d(batch.values, [batch.count, h, w, ch]);
      const features = unitFeatures(core.network.params, trunkPooled(core.layout, core.network.params, core.network.stats, x, true, moments));
      // With matchView 'augmented', matching reads the outputs of this same forward (training mode).
      const targets = tf.tensor2d(targetsFor(features.dataSync() as Float32Array), features.shape);
      return tf.mean(tf.square(tf.sub(features, targets))) as tf.Scalar;
    }, false);
  }

  /** Gradient of `loss` w.r.t. the trunk and the task's own head, one SGD step, running statistics folded in. */
  private optimise(core: TrainerCore, loss: (moments: BatchMoments[]) => tf.Scalar, rotationTask: boolean): number {
    const { network } = core;
    // Each task trains the trunk and its own head: the projection head gets no gradient from the
    // rotation loss, nor the rotation head from the clustering loss.
    const trainable = Object.entries(network.params).filter(([name]) => (rotationTask ? name !== HEAD_WEIGHT && name !== HEAD_BIAS : !TRAINING_ONLY.has(name)));
    const nameOf = new Map(trainable.map(([name, v]) => [v.name, name]));
    const moments: BatchMoments[] = [];
    try {
      return this.optimiseStep(core, loss, moments, trainable, nameOf);
    } finally {
      for (const m of moments) tf.dispose([m.mean, m.variance]);
    }
  }

  private optimiseStep(core: TrainerCore, loss: (moments: BatchMoments[]) => tf.Scalar, moments: BatchMoments[], trainable: [string, tf.Variable][], nameOf: Map<string, string>): number {
    const { network, optimiser } = core;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss(moments), trainable.map(([, v]) => v));
      const lossValue = value.dataSync()[0];
      if (!Number.isFinite(lossValue)) {
        throw new TemiError('TS_ERR_TRAIN_NON_FINITE_LOSS', `the loss became non-finite at step ${this.progress.steps + 1}; the round was rolled back`, { where: 'mmdc' });
      }
      const byName = new Map<string, tf.Tensor>();
      for (const [variableName, gradient] of Object.entries(grads)) byName.set(nameOf.get(variableName)!, gradient);
      optimiser.step(byName, this.rate);
      network.updateStatistics(moments);
      this.progress.steps += 1;
      return lossValue;
    });
  }

  private checkAbort(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new TemiError('TS_ERR_TRAIN_ABORTED', 'the training round was aborted', { where: 'mmdc', cause: signal.reason });
  }

  private createCore(shape: readonly [number, number, number], seed: number): TrainerCore {
    const c = this.config;
    const layout = trunkLayout(c.trunk, shape, c.widths, c.outputDim);
    return this.assembleCore(layout, this.draws.initialParameters(layout, new SeededRandom(seed)));
  }

  private assembleCore(layout: TrunkLayout, params: Record<string, Float32Array>, stats?: Record<string, Float32Array>): TrainerCore {
    const network = new MmdcNetwork(layout, params, stats);
    const optimiser = new SgdMomentum(
      layout.parameters.map((p) => ({ name: p.name, variable: network.params[p.name], decays: p.decays })),
      this.config.momentum,
      this.config.weightDecay,
    );
    return { layout, network, optimiser };
  }

  private servingModel(core: TrainerCore): MmdcModel {
    const { layout } = core;
    return new MmdcModel({
      trunk: layout.trunk,
      imageShape: layout.imageShape,
      widths: layout.widths,
      outputDim: layout.outputDim,
      clusters: this.config.clusters,
      inferenceCrop: this.config.inferenceCrop,
      params: core.network.exportParams(),
      stats: core.network.exportStats(),
    });
  }

  private validate(data: TrainingSet): void {
    if (!Number.isInteger(data.count) || data.count < 2 || !Number.isInteger(data.dim) || data.dim < 1) {
      throw new TemiError('TS_ERR_TRAIN_DATA_INVALID', `expected at least 2 rows of dim >= 1, found ${data.count} x ${data.dim}`, { where: 'data' });
    }
    if (data.embeddings.length !== data.count * data.dim) {
      throw new TemiError('TS_ERR_TRAIN_DATA_INVALID', `expected ${data.count * data.dim} floats, found ${data.embeddings.length}`, { where: 'data.embeddings' });
    }
    if (this.core) {
      const [h, w, ch] = this.core.layout.imageShape;
      if (h * w * ch !== data.dim) throw new TemiError('TS_ERR_TRAIN_DATA_INVALID', `this trainer's trunk takes ${h}x${w}x${ch} images (${h * w * ch} values), found ${data.dim}`, { where: 'data.dim' });
    }
  }
}

function disposeCore(core: TrainerCore): void {
  core.network.dispose();
  core.optimiser.dispose();
}
