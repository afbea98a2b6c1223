import { alignClusters } from '../../clustering/align-clusters.ts';
import { TRAINER_LOST, type ClusterModel, type ClusterTrainer } from '../../clustering/contracts.ts';
import { chooseRoundModel, type RoundCandidate, type RoundChooser } from '../../clustering/window/round-choice.ts';
import { prototypesFor } from '../../clustering/window/window-clustering.ts';
import { type ModelRegistry, type NeighbourIndex, type Clock, type Logger, type Metrics, type TrainingSet, errorCode, reasonOf } from '../../runtime/contracts/index.ts';
import { NoveltyMonitor, type NoveltySettings } from './novelty-monitor.ts';
import { roundDue, type ScheduleSettings, type ScheduleState } from './training-schedule.ts';

export interface ChoiceSettings {
  readonly clusters: number;
  readonly seed: number;
  /** k-means on the window's unit rows as a candidate. */
  readonly kmeans: boolean;
  /** The window clustering (spectral + balanced k-means, served by prototypes) as a candidate. */
  readonly window: boolean;
  /** Self-labelling refinement of the window clustering. */
  readonly refine: boolean;
}

export interface RoundSettings extends ScheduleSettings {
  readonly epochs: number;
  readonly minSteps?: number;
  readonly k: number;
  readonly maxRows?: number;
  /** The label-free choice each round makes before publishing; absent, every round publishes the trainer's model. */
  readonly choice?: ChoiceSettings;
  /** Brings a round forward while arriving records fit no cluster; absent, off. */
  readonly novelty?: NoveltySettings;
}

interface RoundOutcome {
  /** Undefined when the model in service won and stays. */
  readonly model: ClusterModel | undefined;
  readonly winner: string;
  readonly scores?: Readonly<Record<string, number>>;
}

/** Where a training round is, for the progress line. */
export interface RoundProgress {
  readonly round: number;
  readonly phase: 'mining' | 'training' | 'choosing' | 'done';
  readonly rows?: number;
  /** During training: the epoch just finished (1-based). */
  readonly epoch?: number;
}

export interface TrainingTotals {
  readonly rounds: number;
  /** Training samples the trainer reported (anchors, or images for mmdc). */
  readonly samples: number;
  /** Seconds spent in the trainer's rounds (mining and the model choice not included). */
  readonly seconds: number;
}

/**
 * Runs training rounds off the record path: `observe` only counts, and a due round runs in the
 * background (one at a time) while records keep flowing. Each round mines pairs from the index,
 * trains warm-started, lets the label-free choice (when configured) pick between that model, the
 * one in service and the window's own clusterings, renames the winner's clusters to match the
 * previous version, and publishes it.
 */
export class PeriodicTrainer {
  private state: ScheduleState = { seen: 0, seenAtLastRound: 0, rounds: 0, lastRoundAtMs: 0 };
  private trained: TrainingTotals = { rounds: 0, samples: 0, seconds: 0 };
  private running: Promise<void> | undefined;
  private failedRounds = 0;
  /** Set when the trainer can never train again; every later record and the drain rethrow it. */
  private lost: Error | undefined;
  private readonly novelty: NoveltyMonitor | undefined;
  /** The trainer's state from before the round whose choice is running: what a snapshot taken meanwhile holds. */
  private trainerBeforeChoice: unknown;

  constructor(
    private readonly trainer: ClusterTrainer,
    private readonly index: NeighbourIndex,
    private readonly registry: ModelRegistry,
    private readonly settings: RoundSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    /** Aborts a running round (rolled back, previous model stays) and skips the final one. */
    private readonly stopping?: AbortSignal,
    /** Told where a round is (the progress line's "train" entry). */
    private readonly onRound?: (report: RoundProgress) => void,
    /** Makes the label-free choice: on this thread by default, or in a thread of its own (WorkerRoundChooser). */
    private readonly chooser: RoundChooser = chooseRoundModel,
  ) {
    this.novelty = settings.novelty ? new NoveltyMonitor(settings.novelty) : undefined;
  }

  get rounds(): number {
    return this.state.rounds;
  }

  /** Rounds trained by this process (published or kept) and the samples and seconds they took. */
  get totals(): TrainingTotals {
    return this.trained;
  }

  get failures(): number {
    return this.failedRounds;
  }

  /** Counts arriving records; with an embedding, also measures how well it fits the clusters (drift). */
  observe(records: number, embedding?: Float32Array): void {
    if (this.lost) throw this.lost;
    this.state = { ...this.state, seen: this.state.seen + records };
    if (embedding) this.novelty?.observe(embedding);
    this.maybeStart();
  }

  /** Share of recent records that fit no cluster (0 with drift detection off or before the first round). */
  get unfamiliarShare(): number {
    return this.novelty?.unfamiliarShare ?? 0;
  }

  /** Waits for a running round; with `final`, also trains on what arrived since the last one. */
  async drain(final: boolean): Promise<void> {
    await this.running;
    if (this.lost) throw this.lost;
    if (final && !this.stopping?.aborted && this.state.seen > this.state.seenAtLastRound && this.index.size > this.settings.k) {
      this.running = this.round();
      await this.running;
    }
  }

  async snapshot(): Promise<unknown> {
    const schedule = this.state;
    // During a round's choice the trainer already holds the round's training, but the schedule
    // counts the round only once it is chosen: a snapshot then keeps the two from before the round.
    return { schedule, trainer: this.trainerBeforeChoice ?? (await this.trainer.snapshot()) };
  }

  async restore(saved: unknown): Promise<void> {
    const s = saved as { schedule: ScheduleState; trainer: unknown };
    await this.trainer.restore(s.trainer);
    this.state = s.schedule;
  }

  private maybeStart(): void {
    const drifting = this.novelty?.surging ?? false;
    if (this.running || this.stopping?.aborted || !roundDue({ ...this.settings, driftRecords: this.settings.novelty?.records }, this.state, this.clock.now(), drifting)) return;
    if (this.index.size <= this.settings.k) return;
    if (drifting && this.state.seen - this.state.seenAtLastRound < this.settings.everyRecords) {
      this.logger.info('records fit no cluster: round brought forward', { unfamiliarShare: this.novelty!.unfamiliarShare, fresh: this.state.seen - this.state.seenAtLastRound });
    }
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
  }

  private async round(): Promise<void> {
    const startedAt = this.clock.now();
    const seenAtStart = this.state.seen;
    const roundsCounter = this.metrics.counter('temi_training_rounds_total', 'Training rounds by outcome', ['outcome']);
    this.registry.roundStarted();
    const round = this.state.rounds + 1;
    this.onRound?.({ round, phase: 'mining' });
    try {
      const data = await this.index.trainingSet(this.settings.k, { maxRows: this.settings.maxRows });
      // What the trainer is put back to when the round is discarded after training (its choice
      // aborted by a stop, or failed): a training round that fails rolls itself back, but by the
      // time the choice runs the trainer has already kept what it learnt.
      const beforeRound = this.settings.choice ? await this.trainer.snapshot() : undefined;
      const result = await this.trainer.trainRound(data, { epochs: this.settings.epochs, minSteps: this.settings.minSteps, signal: this.stopping, onEpoch: ({ epoch }) => this.onRound?.({ round, phase: 'training', rows: data.count, epoch }) });
      this.onRound?.({ round, phase: 'choosing', rows: data.count });
      this.logger.debug('round trained; the label-free choice runs', { round, rows: data.count });
      let outcome: RoundOutcome;
      this.trainerBeforeChoice = beforeRound;
      try {
        outcome = await this.choose(data, result.model);
      } catch (error) {
        result.model.dispose();
        if (beforeRound !== undefined) await this.trainer.restore(beforeRound);
        throw error;
      } finally {
        this.trainerBeforeChoice = undefined;
      }
      this.trained = { rounds: this.trained.rounds + 1, samples: this.trained.samples + result.samples, seconds: this.trained.seconds + result.seconds };
      this.state = { seen: this.state.seen, seenAtLastRound: seenAtStart, rounds: this.state.rounds + 1, lastRoundAtMs: this.clock.now() };
      this.metrics.histogram('temi_training_round_seconds', 'Duration of training rounds', [], [1, 5, 15, 30, 60, 120, 300, 600, 1800]).observe((this.clock.now() - startedAt) / 1000);
      const trained = { rows: data.count, epochs: result.epochs, loss: result.meanLoss, samplesPerSecond: Math.round(result.samples / Math.max(result.seconds, 1e-9)), winner: outcome.winner, scores: outcome.scores };
      if (!outcome.model) {
        roundsCounter.inc({ outcome: 'kept' });
        this.logger.info('training round done; the model in service scored best and stays', trained);
        return;
      }
      const model = this.stableIds(outcome.model, data.embeddings, data.count);
      const published = await this.registry.publish(model, { loss: result.meanLoss, trainedOn: data.count });
      roundsCounter.inc({ outcome: 'published' });
      this.metrics.gauge('temi_training_last_loss', 'Mean loss of the last published round').set(result.meanLoss);
      this.metrics.gauge('temi_model_version', 'Version of the model in service').set(published.version);
      this.logger.info('training round done', { version: published.version, ...trained });
    } catch (error) {
      this.failedRounds++;
      if (errorCode(error) === TRAINER_LOST) {
        this.lost = error as Error;
        roundsCounter.inc({ outcome: 'lost' });
        this.logger.error('the trainer is gone; the pipeline stops at the next record (a restart resumes from the last snapshot)', { code: TRAINER_LOST, reason: reasonOf(error) });
        return;
      }
      // The previous model keeps serving; the next trigger tries again with more data.
      this.state = { ...this.state, seenAtLastRound: seenAtStart, lastRoundAtMs: this.clock.now(), rounds: this.state.rounds };
      roundsCounter.inc({ outcome: 'rejected' });
      // A stop aborting the round (in training or in its choice) is the stop working, not a fault.
      const rejected = { code: errorCode(error), reason: reasonOf(error) };
      if (this.stopping?.aborted) this.logger.info('training round rejected; previous model stays in service', rejected);
      else this.logger.error('training round rejected; previous model stays in service', rejected);
    } finally {
      this.registry.roundEnded();
      this.onRound?.({ round, phase: 'done' });
    }
  }

  /**
   * The label-free choice between the trainer's new model, the model in service, and k-means and
   * the window clustering on the same window (round-choice.ts); re-arms the drift monitor on the
   * window's prototypes. Losers are disposed, except the model in service, which the registry owns.
   */
  private async choose(data: TrainingSet, trained: ClusterModel): Promise<RoundOutcome> {
    const choice = this.settings.choice;
    if (!choice) {
      if (this.novelty) this.novelty.arm(prototypesFor(data, trained.assign(data.embeddings, data.count).cluster, trained.numClusters, 8, 0), data);
      return { model: trained, winner: this.trainer.name };
    }
    const serving = this.registry.current();
    const given: RoundCandidate[] = [];
    if (serving && serving.model.dim === data.dim && serving.model.numClusters === trained.numClusters) given.push({ name: `in service (v${serving.version})`, model: serving.model });
    given.push({ name: `${this.trainer.name} (new)`, model: trained });
    const result = await this.chooser(data, given, { clusters: trained.numClusters, seed: choice.seed, kmeans: choice.kmeans, window: choice.window, refine: choice.refine }, this.stopping);
    for (const loser of result.losers) if (loser.model !== serving?.model) loser.model.dispose();
    if (this.novelty) {
      const winnerLabels = () => result.winner.model.assign(data.embeddings, data.count).cluster;
      this.novelty.arm(result.prototypes ?? prototypesFor(data, winnerLabels(), trained.numClusters, 8, choice.seed), data);
    }
    const scores = Object.fromEntries(Object.entries(result.scores).map(([name, value]) => [name, Number(value.toFixed(4))]));
    this.logger.info('round candidates scored (chance-corrected kNN agreement on the window)', { winner: result.winner.name, scores });
    const kept = serving !== undefined && result.winner.model === serving.model;
    return { model: kept ? undefined : result.winner.model, winner: result.winner.name, scores };
  }

  /** Renames the new model's clusters to agree with the serving model on the training rows. */
  private stableIds(model: ClusterModel, embeddings: Float32Array, count: number): ClusterModel {
    const previous = this.registry.current();
    if (!previous || previous.model.numClusters !== model.numClusters || previous.model.dim !== model.dim) return model;
    const before = previous.model.assign(embeddings, count).cluster;
    const after = model.assign(embeddings, count).cluster;
    const permuted = model.withPermutation(alignClusters(before, after, model.numClusters));
    if (permuted !== model) model.dispose();
    return permuted;
  }
}
