import { ROUND_CHOICE_ABORTED } from '../../clustering/window/choice-pause.ts';
import { chooseRoundModel, type RoundChooser } from '../../clustering/window/round-choice.ts';
import { ROUND_CHOICE_LOST, WorkerRoundChooser, untilAborted } from '../../clustering/worker/worker-round-chooser.ts';
import { clusteringServices, definePlugin, errorCode, type Logger, reasonOf, type StreamRecord, services, s } from '../../runtime/contracts/index.ts';
import { perBatch } from '../../runtime/operators/index.ts';
import { assignWith } from './assign-with-model.ts';
import { fitBootstrapModel } from './bootstrap-kmeans.ts';
import { holdUntilFirstModel } from './hold-until-first-model.ts';
import { withRevisions } from './label-revisions.ts';
import { RevisionPacer } from './revision-pacer.ts';
import { checkAssignPipeline } from './assign-pipeline-check.ts';

const UNASSIGNED = { cluster: null, confidence: 0, modelVersion: null } as const;

export const assignStagePlugin = definePlugin({
  name: 'assign',
  kind: 'stage',
  description:
    "Labels each record with {cluster, confidence, modelVersion} from the newest published model (the teacher's best head for temi). Before the first model: emit unassigned, hold records for a while, or bootstrap a k-means model from the first records. When a newer model changes the cluster of a record still in its window, emits a revision (same id and key, the new modelVersion, assignment.revision with the previous cluster and version); at the end of a finite source, one last pass with the final model.",

  configSchema: s.object({
    beforeFirstModel: s.enum(['unassigned', 'wait', 'bootstrap'] as const, {
      default: 'unassigned',
      description:
        "unassigned: emit cluster null at once. wait: hold records (in order) until the first model is published, then label them; the in-flight bound pauses the source meanwhile, so runtime.maxInFlight must exceed the train stage's firstRoundAt. bootstrap: hold up to bootstrapRecords records, then fit k-means on them and publish it as the first model version (the first trained model's cluster ids are then aligned with it); runtime.maxInFlight must exceed bootstrapRecords. A stop during the fit aborts it and the held records go out unassigned. For a process that trains itself, not a worker following another process's models.",
    }),
    waitTimeoutMs: s.integer({ min: 0, default: 600_000, description: 'Under "wait" and "bootstrap": after this long without a model, release the held records unassigned (and stop waiting).' }),
    waitRecords: s.optional(s.integer({ min: 1, description: 'Under "wait": release the held records unassigned (and stop waiting) once this many are held, whichever of this and waitTimeoutMs comes first.' })),
    bootstrapRecords: s.integer({ min: 2, default: 1000, description: 'Under "bootstrap": records held and clustered by the bootstrap k-means.' }),
    bootstrapClusters: s.integer({ min: 2, max: 10_000, default: 10, description: "Under \"bootstrap\": clusters of the bootstrap k-means; use the train stage's `clusters`." }),
    seed: s.integer({ default: 0, description: 'Seed of the bootstrap k-means.' }),
    batchSize: s.integer({ min: 1, default: 256 }),
    maxWaitMs: s.integer({ min: 0, default: 20 }),
    revisions: s.object(
      {
        enabled: s.boolean({ default: true, description: 'When a newer model is published, re-assign the records in the window and emit a revision for each whose cluster changed.' }),
        window: s.integer({ min: 0, default: 20_000, description: 'Most recent labelled records kept for revision (their embeddings stay in memory); match the index capacity. 0 keeps none.' }),
        maxPerSecond: s.number({ exclusiveMin: 0, default: 2000, description: 'Revisions emitted per second at most while records stream (the final pass is not paced).' }),
        batchSize: s.integer({ min: 1, default: 256, description: 'Records re-assigned (and revisions emitted) per step.' }),
        finalPass: s.boolean({ default: true, description: 'When a finite source ends, re-assign the window with the final model (after the train stage\'s final round) before the stream completes; skipped when stopped by a signal.' }),
      },
      {
        default: { enabled: true, window: 20_000, maxPerSecond: 2000, batchSize: 256, finalPass: true },
        description: 'Label revisions: downstream keeps the latest label per id (a compacted Kafka topic, `temi-stream labels <file> --latest`).',
      },
    ),
  }),
  needs: { payload: ['embedding'] },
  provides: { payload: ['assignment'] },
  checkPipeline: checkAssignPipeline,
  deps: {
    registry: clusteringServices.modelRegistry,
    deadLetters: services.deadLetters,
    metrics: services.metrics,
    logger: services.logger,
    records: services.records,
    flow: services.flow,
    clock: services.clock,
    pipeline: services.pipeline,
    progress: services.progress,
  },
  create({ config, deps, instanceName }) {
    const labelled = deps.progress.counter('labelled');
    const confidence = deps.metrics.histogram('temi_assign_confidence', 'Confidence of emitted assignments', [], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]);
    const label = (records: StreamRecord[]): StreamRecord[] => {
      const published = deps.registry.current();
      if (!published) {
        for (const r of records) r.payload.assignment = UNASSIGNED;
        return records;
      }
      assignWith(published, records);
      for (const r of records) confidence.observe(r.payload.assignment!.confidence);
      labelled.add(records.length);
      return records;
    };
    const labelling = perBatch({ stage: instanceName, deadLetters: deps.deadLetters }, { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs, flow: deps.flow }, label);
    const logger = deps.logger.child({ stage: instanceName });
    // A stop aborts a bootstrap still choosing, and none starts after it; the records it held
    // then go out unassigned, as at waitTimeoutMs (written and acknowledged).
    const stopping = deps.pipeline.stopping;
    /** The bootstrap's thread being closed: not waited for on the record path (a stop's), but by the stage's stop. */
    let closing: Promise<void> | undefined;
    const publishBootstrap = async (held: readonly StreamRecord[]): Promise<boolean> => {
      if (deps.registry.current()) return false;
      if (stopping.aborted) {
        logger.info('bootstrap k-means not started: the pipeline is stopping; held records go out unassigned', { held: held.length });
        return false;
      }
      logger.debug('bootstrap k-means: choosing between k-means and the window clustering', { held: held.length });
      const thread = bootstrapThread(logger);
      let fit: Awaited<ReturnType<typeof fitBootstrapModel>>;
      try {
        fit = await fitBootstrapModel(held, config.bootstrapClusters, config.seed, true, { signal: stopping, chooser: thread.choose });
      } catch (error) {
        if (errorCode(error) !== ROUND_CHOICE_ABORTED) throw error;
        logger.info('bootstrap k-means aborted by the stop; held records go out unassigned', { held: held.length });
        return false;
      } finally {
        closing = thread.dispose().catch((error: unknown) => logger.warn("bootstrap: closing the choice's thread failed", { reason: reasonOf(error) }));
      }
      if (!fit) {
        logger.warn('bootstrap k-means skipped: fewer usable embeddings than clusters', { held: held.length, clusters: config.bootstrapClusters });
        return false;
      }
      // A training round may have published while the fit ran: its model serves, with its own ids.
      // A fit that finished just as a stop came is published: its labels beat none.
      if (deps.registry.current()) {
        fit.model.dispose();
        return false;
      }
      const published = await deps.registry.publish(fit.model, { loss: fit.meanInertia, trainedOn: fit.rows });
      logger.info('bootstrap k-means model published', { version: published.version, rows: fit.rows, clusters: config.bootstrapClusters, winner: fit.winner });
      return true;
    };
    const revisions = withRevisions(
      { live: config.revisions.enabled, finalPass: config.revisions.finalPass, window: config.revisions.window, batchSize: config.revisions.batchSize },
      {
        registry: deps.registry,
        records: deps.records,
        flow: deps.flow,
        logger,
        stopping: deps.pipeline.stopping,
        pacer: new RevisionPacer(config.revisions.maxPerSecond, () => deps.clock.now(), (ms) => new Promise((resolve) => setTimeout(resolve, ms))),
        revised: deps.metrics.counter('temi_label_revisions_total', 'Revised labels emitted (a newer model changed the cluster of a record already labelled)'),
      },
    );
    if (config.beforeFirstModel === 'unassigned') return { operator: (input) => input.pipe(labelling, revisions) };
    const bootstrap = config.beforeFirstModel === 'bootstrap' ? { records: config.bootstrapRecords, publish: publishBootstrap } : undefined;
    return {
      operator: (input) => holdUntilFirstModel({ timeoutMs: config.waitTimeoutMs, maxHeld: config.waitRecords, bootstrap, stopping }, deps.registry)(input).pipe(labelling, revisions),
      stop: () => closing,
    };
  },
});

/**
 * The bootstrap's label-free choice in a thread of its own (WorkerRoundChooser, ~0.2 s to start,
 * started at once so it boots while the held records' kNN table is mined): the pipeline's thread
 * stays free, and a stop rejects the choice at once, even while the thread is still starting. A
 * thread that does not start, or is lost mid-choice, leaves the choice to the pipeline's thread
 * (in pieces, abortable at each).
 */
function bootstrapThread(logger: Logger): { choose: RoundChooser; dispose(): Promise<void> } {
  const worker = WorkerRoundChooser.start().catch((error: unknown) => {
    logger.warn("bootstrap: the choice's thread did not start; choosing on the pipeline's thread", { reason: reasonOf(error) });
    return undefined;
  });
  const choose: RoundChooser = async (data, given, options, signal) => {
    const chooser = await untilAborted(worker, signal);
    if (!chooser) return chooseRoundModel(data, given, options, signal);
    try {
      return await chooser.choose(data, given, options, signal);
    } catch (error) {
      if (errorCode(error) !== ROUND_CHOICE_LOST) throw error;
      logger.warn("bootstrap: the choice's thread was lost; choosing on the pipeline's thread", { reason: reasonOf(error) });
      return chooseRoundModel(data, given, options, signal);
    }
  };
  return { choose, dispose: async () => (await worker)?.dispose() };
}
