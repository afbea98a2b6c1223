import { tap, defaultIfEmpty, type Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { InstanceOfKind, Lifecycle, PluginKind, SinkInstance, SourceInstance, StageInstance } from './contracts/plugin.ts';
import type { StreamRecord } from './contracts/record.ts';
import { services, type Logger, type ProgressCounter } from './contracts/services.ts';
import { ServiceContainer, type ServiceOwner } from './container.ts';
import { TemiError, isTemiError, reasonOf } from './errors.ts';
import { InFlightLimiter } from './flow/in-flight-limiter.ts';
import { DEADLINE_PASSED, StopDeadline } from './flow/stop-deadline.ts';
import { mapBatches } from './operators/batch-records.ts';
import type { ResolvedPipeline, ResolvedStage } from './pipeline/resolved-pipeline.ts';
import { ProgressReporter } from './progress/progress-reporter.ts';
import { StageCounts } from './services/stage-counts.ts';
import { DefaultRecordFactory } from './records/record-factory.ts';
import { DeadLetterRouter } from './services/dead-letter-router.ts';
import { FileStateStore } from './services/file-state-store.ts';
import { createLogger } from './services/pino-logger.ts';
import { PromMetrics } from './services/prom-metrics.ts';
import { systemClock } from './services/system-clock.ts';
import { PipelineSnapshots } from './state/pipeline-snapshots.ts';

export interface RunSummary {
  readonly pipeline: string;
  /** Records the source took in: those it emitted and those it dead-lettered itself (unreadable inputs). */
  readonly records: number;
  /** Records the sink wrote (and acked), revised labels not included. */
  readonly written: number;
  /** Revised labels the sink wrote (a newer model changed a labelled record's cluster; see the assign stage). */
  readonly revised: number;
  readonly deadLettered: number;
  readonly seconds: number;
  /** True when the run ended because stop() was called (a signal) rather than the source ending. */
  readonly stopped: boolean;
}

export interface PipelineRunOptions {
  /** Where logs go (stderr by default). */
  readonly logStream?: NodeJS.WritableStream;
  /** Where progress goes (stderr by default). */
  readonly progressStream?: NodeJS.WritableStream;
}

interface Created {
  readonly stage: ResolvedStage;
  readonly instance: Lifecycle;
}

/** What a stop's final snapshot may take beyond runtime.drainTimeoutMs (docs promise drainTimeoutMs + 5 s for the whole stop). */
const FINAL_SNAPSHOT_GRACE_MS = 3_000;

/** Default batching in front of a sink that states none: small batches, short wait. */
const DEFAULT_SINK_BATCHING = { maxSize: 256, maxWaitMs: 50 };

/**
 * One execution of a resolved pipeline: builds the services, creates and starts the plugin
 * instances, streams records from source to sink within the in-flight bound, and on the way out
 * drains, flushes, snapshots and stops everything, in that order.
 */
export class PipelineRun {
  readonly logger: Logger;
  readonly metrics = new PromMetrics({ defaultMetrics: true });
  readonly limiter: InFlightLimiter;
  private readonly progress: ProgressReporter;
  private readonly ingested: ProgressCounter;
  private readonly container = new ServiceContainer();
  private readonly shutdown = new AbortController();
  private readonly stopping = new AbortController();
  private readonly created: Created[] = [];
  private source: SourceInstance | undefined;
  private deadLetters: DeadLetterRouter | undefined;
  private stopRequested = false;
  private metricsPort: number | undefined;
  /** runtime.drainTimeoutMs from the stop request: bounds every wait on the way out. */
  private readonly deadline: StopDeadline;
  private snapshotter: PipelineSnapshots | undefined;
  private readonly stageCounts: StageCounts;

  constructor(readonly pipeline: ResolvedPipeline, private readonly options: PipelineRunOptions = {}) {
    const runtime = pipeline.spec.runtime;
    this.progress = new ProgressReporter(ProgressReporter.modeFor(runtime.progress, options.progressStream), options.progressStream);
    // Registered before any plugin's entries, so the line starts with what the source let in.
    this.ingested = this.progress.counter('ingested');
    this.logger = createLogger(runtime.logLevel, pipeline.redactor, options.logStream).child({ pipeline: pipeline.spec.name });
    this.limiter = new InFlightLimiter(runtime.maxInFlight);
    this.deadline = new StopDeadline(runtime.drainTimeoutMs);
    this.stageCounts = new StageCounts(this.metrics);
  }

  /** The pipeline's snapshots (save times and sizes), once the run has started. */
  get snapshots(): PipelineSnapshots | undefined {
    return this.snapshotter;
  }

  /** The port /metrics is served on, once started (when the pipeline asks for metrics). */
  get metricsEndpointPort(): number | undefined {
    return this.metricsPort;
  }

  /** Graceful stop: the source stops reading; what is in flight finishes. */
  async stop(): Promise<void> {
    if (this.stopRequested) return;
    this.stopRequested = true;
    // The clock starts before anything else, so the source's own close counts against it too.
    this.deadline.start();
    this.stopping.abort();
    this.logger.info('stopping: closing the source and draining in-flight records', { inFlight: this.limiter.inFlight });
    await this.source?.close();
  }

  async execute(): Promise<RunSummary> {
    const started = Date.now();
    const snapshots = await this.prepareServices();
    const counts = { emitted: 0, written: 0, revised: 0 };
    const stageSummaries: Record<string, unknown> = {};
    try {
      const { source, stages, sink } = await this.createInstances();
      await this.startAll();
      await snapshots.restore(this.members());
      this.logger.info('pipeline running', { flow: [this.pipeline.source, ...this.pipeline.stages, this.pipeline.sink].map((s) => s.name).join(' -> '), maxInFlight: this.limiter.maxInFlight, stateDir: this.pipeline.stateDir });
      await this.stream(source, stages, sink, snapshots, counts);
      await this.finishInstances(snapshots);
      for (const { instance } of this.created) Object.assign(stageSummaries, instance.summary?.());
    } finally {
      this.deadline.dispose();
      this.shutdown.abort();
      await this.stopAll();
      await this.metrics.close();
    }
    const summary: RunSummary = {
      pipeline: this.pipeline.spec.name,
      // Inputs the source could not read were taken in too, and went straight to dead letters.
      records: counts.emitted + (this.deadLetters?.countFrom(this.pipeline.source.name) ?? 0),
      written: counts.written,
      revised: counts.revised,
      deadLettered: this.deadLetters?.count ?? 0,
      seconds: (Date.now() - started) / 1000,
      stopped: this.stopRequested,
    };
    // Stages' summaries (evaluate's final scores) ride on this line, the last one a run writes.
    this.logger.info('pipeline finished', { ...stageSummaries, records: summary.records, written: summary.written, revised: summary.revised, deadLettered: summary.deadLettered, seconds: summary.seconds, stopped: summary.stopped });
    return summary;
  }

  /** The services every run binds before any plugin is created, and the metrics endpoint. */
  private async prepareServices(): Promise<PipelineSnapshots> {
    const { pipeline } = this;
    const state = new FileStateStore(pipeline.stateDir);
    await state.prepare();
    const records = new DefaultRecordFactory(this.limiter, systemClock);
    this.bindRuntimeServices(state, records);
    for (const factory of pipeline.serviceFactories) this.container.provide(factory);
    if (pipeline.spec.metrics.port !== undefined) {
      this.metricsPort = await this.metrics.serve(pipeline.spec.metrics.port, pipeline.spec.metrics.host);
      this.logger.info('metrics endpoint listening', { url: `http://${pipeline.spec.metrics.host}:${this.metricsPort}/metrics` });
    }
    this.snapshotter = new PipelineSnapshots(state, this.logger, this.metrics);
    return this.snapshotter;
  }

  /** In pipeline order, the dead-letter sink first: a plugin's deps may be provided by one created before it. */
  private async createInstances(): Promise<{ source: SourceInstance; stages: StageInstance[]; sink: SinkInstance }> {
    const { pipeline } = this;
    const deadLetterSink = await this.create<'sink'>(pipeline.deadLetter);
    this.deadLetters = new DeadLetterRouter(deadLetterSink, systemClock, this.logger, this.metrics);
    this.container.bind(services.deadLetters, this.deadLetters);
    const source = await this.create<'source'>(pipeline.source);
    this.source = source;
    const stages: StageInstance[] = [];
    for (const stage of pipeline.stages) stages.push(await this.create<'stage'>(stage));
    const sink = await this.create<'sink'>(pipeline.sink);
    return { source, stages, sink };
  }

  /** Streams every record from the source through the stages into the sink, with progress, sampling and periodic snapshots alongside. */
  private async stream(source: SourceInstance, stages: StageInstance[], sink: SinkInstance, snapshots: PipelineSnapshots, counts: { emitted: number; written: number; revised: number }): Promise<void> {
    const { pipeline } = this;
    const { progress } = this;
    progress.start(source.expectedCount);
    const sampler = this.startSampling();
    const periodic = setInterval(() => {
      void snapshots.tick(this.members(), this.source).catch((e) => this.logger.error('periodic snapshot failed', { reason: reasonOf(e) }));
    }, pipeline.spec.state.snapshotIntervalMs);
    periodic.unref();
    let subscription: Subscription | undefined;
    try {
      const completed = new Promise<void>((resolve, reject) => {
        subscription = this.assembleStream(source, stages, sink, counts, (written, revised) => progress.add(written, revised)).subscribe({ complete: resolve, error: reject });
      });
      if ((await this.deadline.race(completed)) === DEADLINE_PASSED) {
        // Unacknowledged records are never committed (sources commit the acked prefix only), so
        // letting them go costs a re-read after a restart, not a loss.
        this.logger.warn('stop took longer than runtime.drainTimeoutMs: records still in flight are left unacknowledged and will be re-read after a restart', {
          inFlight: this.limiter.inFlight,
          drainTimeoutMs: this.deadline.budgetMs,
        });
      }
    } finally {
      subscription?.unsubscribe();
      clearInterval(periodic);
      clearInterval(sampler);
      this.stageCounts.publish();
      progress.finish();
    }
  }

  /**
   * source -> each stage (counted in and out) -> sink batches, acknowledged once written. What
   * runs per record is kept to plain counting; the metrics take the counts once per sink batch
   * and once a second (stageCounts), and the latency histogram one observation per batch.
   */
  private assembleStream(source: SourceInstance, stages: StageInstance[], sink: SinkInstance, counts: { emitted: number; written: number; revised: number }, onWritten: (n: number, revised: number) => void): Observable<unknown> {
    const latency = this.metrics.histogram('temi_record_latency_seconds', 'Time from ingestion to the durable sink write, of the oldest record in each sink batch', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    const batchSizes = this.metrics.histogram('temi_sink_batch_size', 'Records per sink write', [], [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    let staged = source.open(this.limiter).pipe(
      tap(() => {
        counts.emitted++;
        this.ingested.add();
      }),
    );
    this.pipeline.stages.forEach((stage, i) => {
      staged = staged.pipe(this.instrumented(stage.name, stages[i].operator));
    });
    const writeBatch = async (batch: StreamRecord[]) => {
      await this.writeToSink(sink, batch);
      let revisions = 0;
      let oldest = Infinity;
      for (const r of batch) {
        if (r.metadata.ingestedAt < oldest) oldest = r.metadata.ingestedAt;
        r.ack.ack();
        if (r.payload.assignment?.revision) revisions++;
      }
      latency.observe((Date.now() - oldest) / 1000);
      batchSizes.observe(batch.length);
      this.stageCounts.publish();
      counts.written += batch.length - revisions;
      counts.revised += revisions;
      onWritten(batch.length - revisions, revisions);
    };
    return staged.pipe(
      mapBatches({ ...(sink.batching ?? DEFAULT_SINK_BATCHING), flow: this.limiter }, writeBatch),
      defaultIfEmpty(undefined),
    );
  }

  /**
   * The source has ended: drain every instance, flush sinks, wait for the last acks, then the
   * final snapshot. After a stop request each wait races what is left of the stop's time; what
   * it cuts short goes on unobserved, and the snapshot commits only acknowledged positions.
   */
  private async finishInstances(snapshots: PipelineSnapshots): Promise<void> {
    for (const { stage, instance } of this.created) {
      await this.bounded(stage, 'drain', this.hook(stage, 'drain', () => instance.drain?.()));
    }
    for (const { stage, instance } of this.created) {
      if ('flush' in instance && typeof (instance as SinkInstance).flush === 'function') await this.bounded(stage, 'flush', Promise.resolve((instance as SinkInstance).flush!()));
    }
    await this.waitForDrain();
    await this.finalSnapshot(snapshots);
  }

  /**
   * The final snapshot. After a stop it may have to wait for a periodic save still running (one
   * waiting on the index's worker, busy mining a round's training set, can take tens of seconds):
   * it then gets what is left of the stop's time plus FINAL_SNAPSHOT_GRACE_MS, and past that the
   * last durable snapshot stands (offsets are committed only once a snapshot is durable).
   */
  private async finalSnapshot(snapshots: PipelineSnapshots): Promise<void> {
    const saving = snapshots.save(this.members(), this.source, { final: true });
    if (!this.deadline.started) return saving;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.deadline.remainingMs + FINAL_SNAPSHOT_GRACE_MS);
    });
    try {
      if ((await Promise.race([saving, late])) === 'late') {
        saving.catch((error: unknown) => this.logger.warn('final snapshot failed after the stop moved on', { reason: reasonOf(error) }));
        this.logger.warn('final snapshot not done within runtime.drainTimeoutMs (+ grace) of the stop: the last durable snapshot stands, and what came after it will be re-read', {
          graceMs: FINAL_SNAPSHOT_GRACE_MS,
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for a hook, or, after a stop request, until the stop's time is up (logged, the hook left running). */
  private async bounded(stage: ResolvedStage, name: string, work: Promise<unknown>): Promise<void> {
    if ((await this.deadline.race(work)) === DEADLINE_PASSED) {
      work.catch((error: unknown) => this.logger.error(`${name} failed after the stop's time was up`, { stage: stage.name, reason: reasonOf(error) }));
      this.logger.warn(`${name} cut short: runtime.drainTimeoutMs has passed since the stop`, { stage: stage.name, drainTimeoutMs: this.deadline.budgetMs });
    }
  }

  /** The in-flight gauge is read rather than counted. (Plugins that use TensorFlow sample their own tensor gauge.) */
  private startSampling(): NodeJS.Timeout {
    const inFlight = this.metrics.gauge('temi_in_flight_records', 'Records between source and final ack');
    const sample = () => {
      inFlight.set(this.limiter.inFlight);
      this.stageCounts.publish();
    };
    sample();
    const timer = setInterval(sample, 1000);
    timer.unref();
    return timer;
  }

  private members() {
    return this.created.map((c) => ({ name: c.stage.name, instance: c.instance }));
  }

  private bindRuntimeServices(state: FileStateStore, records: DefaultRecordFactory): void {
    const c = this.container;
    c.bind(services.logger, this.logger);
    c.bind(services.metrics, this.metrics);
    c.bind(services.clock, systemClock);
    c.bind(services.state, state);
    c.bind(services.flow, this.limiter);
    c.bind(services.records, records);
    c.bind(services.progress, this.progress);
    const created = this.created;
    const source = () => this.source;
    c.bind(services.pipeline, {
      name: this.pipeline.spec.name,
      baseDir: this.pipeline.baseDir,
      shutdown: this.shutdown.signal,
      stopping: this.stopping.signal,
      get expectedRecords() {
        return source()?.expectedCount;
      },
      // Read by sources once everything is created (at start/open), so every hook is known.
      get stateful() {
        return created.some((c) => c.stage.plugin.kind !== 'source' && typeof c.instance.snapshot === 'function');
      },
    });
  }

  private async create<K extends PluginKind>(stage: ResolvedStage): Promise<InstanceOfKind[K]> {
    const deps = await this.container.resolveDeps(stage.plugin.deps, stage.plugin.name, stage.path);
    let instance: InstanceOfKind[K];
    try {
      instance = (await stage.plugin.create({ deps, config: stage.config, instanceName: stage.name })) as InstanceOfKind[K];
    } catch (error) {
      throw startFailure(stage, error);
    }
    this.created.push({ stage, instance });
    const owner: ServiceOwner = { plugin: stage.plugin.name, instance: stage.name, where: stage.path };
    for (const [ref, value] of instance.provides ?? []) this.container.bind(ref, value, owner);
    return instance;
  }

  private async startAll(): Promise<void> {
    // Downstream first, the source last: nothing may arrive before its consumers are ready.
    for (const { stage, instance } of [...this.created].reverse()) {
      try {
        await instance.start?.();
      } catch (error) {
        throw startFailure(stage, error);
      }
      this.logger.debug('started', { stage: stage.name, plugin: stage.plugin.name });
    }
  }

  private async stopAll(): Promise<void> {
    for (const { stage, instance } of this.created) {
      try {
        await instance.stop?.();
      } catch (error) {
        this.logger.error('stop failed', { stage: stage.name, reason: reasonOf(error) });
      }
    }
  }

  private async hook(stage: ResolvedStage, name: string, run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (error) {
      throw new TemiError('TS_ERR_STAGE_HOOK_FAILED', `plugin "${stage.plugin.name}" (${stage.name}) failed in ${name}: ${reasonOf(error)}`, { where: stage.path, cause: error });
    }
  }

  private async writeToSink(sink: SinkInstance, batch: StreamRecord[]): Promise<void> {
    try {
      await sink.write(batch);
    } catch (error) {
      throw new TemiError('TS_ERR_SINK_WRITE', `sink "${this.pipeline.sink.name}" could not write ${batch.length} records (not acknowledged, so they will be re-read): ${reasonOf(error)}`, {
        where: this.pipeline.sink.path,
        cause: error,
      });
    }
  }

  private instrumented(name: string, operator: OperatorFunction<StreamRecord, StreamRecord>): OperatorFunction<StreamRecord, StreamRecord> {
    const count = this.stageCounts.stage(name);
    return (input) =>
      input.pipe(
        tap(() => count.in++),
        operator,
        tap(() => count.out++),
      );
  }

  private async waitForDrain(): Promise<void> {
    // After a stop, what is left of its time; at the end of a finite source, the whole budget.
    const timeoutMs = this.deadline.remainingMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.limiter.whenDrained().then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn('drain timed out; unacknowledged records will be re-read on restart', { inFlight: this.limiter.inFlight });
    }
  }
}

function startFailure(stage: ResolvedStage, error: unknown): TemiError {
  if (isTemiError(error) && error.code === 'TS_ERR_STAGE_START_FAILED') return error;
  return new TemiError('TS_ERR_STAGE_START_FAILED', `plugin "${stage.plugin.name}" (${stage.name}) failed to start: ${reasonOf(error)}`, { where: stage.path, cause: error });
}
