import { clusteringServices, definePlugin, type StreamRecord, services, s } from '../../runtime/contracts/index.ts';
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
        "unassigned: emit cluster null at once. wait: hold records (in order) until the first model is published, then label them; the in-flight bound pauses the source meanwhile, so runtime.maxInFlight must exceed the train stage's firstRoundAt. bootstrap: hold up to bootstrapRecords records, then fit k-means on them and publish it as the first model version (the first trained model's cluster ids are then aligned with it); runtime.maxInFlight must exceed bootstrapRecords. For a process that trains itself, not a worker following another process's models.",
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
    const labelling = perBatch({ stage: instanceName, deadLetters: deps.deadLetters }, { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs }, label);
    const logger = deps.logger.child({ stage: instanceName });
    const publishBootstrap = async (held: readonly StreamRecord[]): Promise<boolean> => {
      if (deps.registry.current()) return false;
      const fit = await fitBootstrapModel(held, config.bootstrapClusters, config.seed);
      if (!fit) {
        logger.warn('bootstrap k-means skipped: fewer usable embeddings than clusters', { held: held.length, clusters: config.bootstrapClusters });
        return false;
      }
      // A training round may have published while the fit ran: its model serves, with its own ids.
      if (deps.registry.current()) {
        fit.model.dispose();
        return false;
      }
      const published = await deps.registry.publish(fit.model, { loss: fit.meanInertia, trainedOn: fit.rows });
      logger.info('bootstrap k-means model published', { version: published.version, rows: fit.rows, clusters: config.bootstrapClusters });
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
      operator: (input) => holdUntilFirstModel({ timeoutMs: config.waitTimeoutMs, maxHeld: config.waitRecords, bootstrap }, deps.registry)(input).pipe(labelling, revisions),
    };
  },
});
