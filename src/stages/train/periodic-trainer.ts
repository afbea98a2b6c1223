import { alignClusters } from '../../clustering/align-clusters.ts';
import { TRAINER_LOST, type ClusterModel, type ClusterTrainer } from '../../clustering/contracts.ts';
import { type ModelRegistry, type NeighbourIndex, type Clock, type Logger, type Metrics, errorCode, reasonOf } from '../../runtime/contracts/index.ts';
import { roundDue, type ScheduleSettings, type ScheduleState } from './training-schedule.ts';

export interface RoundSettings extends ScheduleSettings {
  readonly epochs: number;
  readonly minSteps?: number;
  readonly k: number;
  readonly maxRows?: number;
}

/**
 * Runs training rounds off the record path: `observe` only counts, and a due round runs in the
 * background (one at a time) while records keep flowing. Each round mines pairs from the index,
 * trains warm-started, renames clusters to match the previous version, and publishes.
 */
export class PeriodicTrainer {
  private state: ScheduleState = { seen: 0, seenAtLastRound: 0, rounds: 0, lastRoundAtMs: 0 };
  private running: Promise<void> | undefined;
  private failedRounds = 0;
  /** Set when the trainer can never train again; every later record and the drain rethrow it. */
  private lost: Error | undefined;

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
  ) {}

  get rounds(): number {
    return this.state.rounds;
  }

  get failures(): number {
    return this.failedRounds;
  }

  observe(records: number): void {
    if (this.lost) throw this.lost;
    this.state = { ...this.state, seen: this.state.seen + records };
    this.maybeStart();
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
    return { schedule, trainer: await this.trainer.snapshot() };
  }

  async restore(saved: unknown): Promise<void> {
    const s = saved as { schedule: ScheduleState; trainer: unknown };
    await this.trainer.restore(s.trainer);
    this.state = s.schedule;
  }

  private maybeStart(): void {
    if (this.running || this.stopping?.aborted || !roundDue(this.settings, this.state, this.clock.now())) return;
    if (this.index.size <= this.settings.k) return;
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
  }

  private async round(): Promise<void> {
    const startedAt = this.clock.now();
    const seenAtStart = this.state.seen;
    const roundsCounter = this.metrics.counter('temi_training_rounds_total', 'Training rounds by outcome', ['outcome']);
    this.registry.roundStarted();
    try {
      const data = await this.index.trainingSet(this.settings.k, { maxRows: this.settings.maxRows });
      const result = await this.trainer.trainRound(data, { epochs: this.settings.epochs, minSteps: this.settings.minSteps, signal: this.stopping });
      const model = this.stableIds(result.model, data.embeddings, data.count);
      const published = await this.registry.publish(model, { loss: result.meanLoss, trainedOn: data.count });
      this.state = { seen: this.state.seen, seenAtLastRound: seenAtStart, rounds: this.state.rounds + 1, lastRoundAtMs: this.clock.now() };
      roundsCounter.inc({ outcome: 'published' });
      this.metrics.gauge('temi_training_last_loss', 'Mean loss of the last published round').set(result.meanLoss);
      this.metrics.gauge('temi_model_version', 'Version of the model in service').set(published.version);
      this.metrics.histogram('temi_training_round_seconds', 'Duration of training rounds', [], [1, 5, 15, 30, 60, 120, 300, 600, 1800]).observe((this.clock.now() - startedAt) / 1000);
      this.logger.info('training round done', { version: published.version, rows: data.count, epochs: result.epochs, loss: result.meanLoss, samplesPerSecond: Math.round(result.samples / Math.max(result.seconds, 1e-9)) });
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
      this.logger.error('training round rejected; previous model stays in service', { code: errorCode(error), reason: reasonOf(error) });
    } finally {
      this.registry.roundEnded();
    }
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
