import { clusteringServices, type PublishedModel, definePlugin, type StreamRecord, services, TemiError, s } from '../../runtime/contracts/index.ts';
import { perBatch } from '../../runtime/operators/index.ts';
import { fitBootstrapModel } from './bootstrap-kmeans.ts';
import { holdUntilFirstModel } from './hold-until-first-model.ts';

const UNASSIGNED = { cluster: null, confidence: 0, modelVersion: null } as const;

export const assignStagePlugin = definePlugin({
  name: 'assign',
  kind: 'stage',
  description:
    "Labels each record with {cluster, confidence, modelVersion} from the newest published model (the teacher's best head for temi). Before the first model: emit unassigned, hold records for a while, or bootstrap a k-means model from the first records.",
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
  }),
  deps: { registry: clusteringServices.modelRegistry, deadLetters: services.deadLetters, metrics: services.metrics, logger: services.logger },
  create({ config, deps, instanceName }) {
    const confidence = deps.metrics.histogram('temi_assign_confidence', 'Confidence of emitted assignments', [], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]);
    const label = (records: StreamRecord[]): StreamRecord[] => {
      const published = deps.registry.current();
      if (!published) {
        for (const r of records) r.payload.assignment = UNASSIGNED;
        return records;
      }
      assignWith(published, records);
      for (const r of records) confidence.observe(r.payload.assignment!.confidence);
      return records;
    };
    const labelling = perBatch({ stage: instanceName, deadLetters: deps.deadLetters }, { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs }, label);
    const logger = deps.logger.child({ stage: instanceName });
    const publishBootstrap = async (held: readonly StreamRecord[]): Promise<boolean> => {
      if (deps.registry.current()) return false;
      const fit = fitBootstrapModel(held, config.bootstrapClusters, config.seed);
      if (!fit) {
        logger.warn('bootstrap k-means skipped: fewer usable embeddings than clusters', { held: held.length, clusters: config.bootstrapClusters });
        return false;
      }
      const published = await deps.registry.publish(fit.model, { loss: fit.meanInertia, trainedOn: fit.rows });
      logger.info('bootstrap k-means model published', { version: published.version, rows: fit.rows, clusters: config.bootstrapClusters });
      return true;
    };
    if (config.beforeFirstModel === 'unassigned') return { operator: labelling };
    const bootstrap = config.beforeFirstModel === 'bootstrap' ? { records: config.bootstrapRecords, publish: publishBootstrap } : undefined;
    return {
      operator: (input) => holdUntilFirstModel({ timeoutMs: config.waitTimeoutMs, maxHeld: config.waitRecords, bootstrap }, deps.registry)(input).pipe(labelling),
    };
  },
});

function assignWith(published: PublishedModel, records: StreamRecord[]): void {
  const dim = published.model.dim;
  const matrix = new Float32Array(records.length * dim);
  records.forEach((r, i) => {
    const e = r.payload.embedding;
    if (!e) throw new TemiError('TS_ERR_ASSIGN_NO_EMBEDDING', 'record has no embedding (put an embed stage before assign)', { where: r.key });
    if (e.length !== dim) throw new TemiError('TS_ERR_ASSIGN_DIMENSION', `embedding has ${e.length} dimensions, model version ${published.version} expects ${dim}`, { where: r.key });
    matrix.set(e, i * dim);
  });
  const { cluster, confidence } = published.model.assign(matrix, records.length);
  records.forEach((r, i) => {
    if (!Number.isFinite(confidence[i])) throw new TemiError('TS_ERR_ASSIGN_NON_FINITE', 'the model produced a non-finite confidence (NaN/Inf in the embedding?)', { where: r.key });
    r.payload.assignment = { cluster: cluster[i], confidence: confidence[i], modelVersion: published.version };
  });
}
