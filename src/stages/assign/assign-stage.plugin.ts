import { Observable, type OperatorFunction } from 'rxjs';
import { clusteringServices, type ModelRegistry, type PublishedModel } from '../../runtime/contracts/clustering-services.ts';
import { definePlugin } from '../../runtime/contracts/plugin.ts';
import type { StreamRecord } from '../../runtime/contracts/record.ts';
import { services } from '../../runtime/contracts/services.ts';
import { TemiError } from '../../runtime/errors.ts';
import { perBatch } from '../../runtime/operators/per-record.ts';
import { s } from '../../runtime/schema/schema.ts';

const UNASSIGNED = { cluster: null, confidence: 0, modelVersion: null } as const;

export const assignStagePlugin = definePlugin({
  name: 'assign',
  kind: 'stage',
  description: "Labels each record with {cluster, confidence, modelVersion} from the newest published model (the teacher's best head for temi). Before the first model: emit unassigned, or hold records for a while.",
  configSchema: s.object({
    beforeFirstModel: s.enum(['unassigned', 'wait'] as const, {
      default: 'unassigned',
      description:
        'unassigned: emit cluster null at once. wait: hold records (in order) until the first model is published, then label them; the in-flight bound pauses the source meanwhile, so runtime.maxInFlight must exceed the train stage\'s firstRoundAt.',
    }),
    waitTimeoutMs: s.integer({ min: 0, default: 600_000, description: 'Under "wait": after this long without a model, release the held records unassigned (and stop waiting).' }),
    batchSize: s.integer({ min: 1, default: 256 }),
    maxWaitMs: s.integer({ min: 0, default: 20 }),
  }),
  deps: { registry: clusteringServices.modelRegistry, deadLetters: services.deadLetters, metrics: services.metrics },
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
    return {
      operator: config.beforeFirstModel === 'wait' ? (input) => holdUntilFirstModel(config.waitTimeoutMs, deps.registry)(input).pipe(labelling) : labelling,
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

/**
 * Holds records (in order) until the registry has a model, the source completes (after a round
 * already training, if any, ends), or `timeoutMs` passes; then releases them and passes everything through. Nothing is dropped or reordered, and
 * memory stays within the runtime's in-flight bound because held records are not acknowledged.
 */
function holdUntilFirstModel(timeoutMs: number, registry: Pick<ModelRegistry, 'current' | 'onPublish' | 'training' | 'whenIdle'>): OperatorFunction<StreamRecord, StreamRecord> {
  return (source) =>
    new Observable<StreamRecord>((subscriber) => {
      let held: StreamRecord[] | undefined = registry.current() ? undefined : [];
      const release = () => {
        if (!held) return;
        const out = held;
        held = undefined;
        clearTimeout(timer);
        for (const r of out) subscriber.next(r);
      };
      const timer = held ? setTimeout(release, timeoutMs) : undefined;
      const unsubscribe = registry.onPublish(release);
      const sub = source.subscribe({
        next(r) {
          if (held) held.push(r);
          else subscriber.next(r);
        },
        error: (e) => subscriber.error(e),
        complete() {
          // A short input can end while the first round is still training: wait for that round
          // (it publishes, or fails and ends) rather than releasing everything unassigned.
          const finish = () => {
            release();
            subscriber.complete();
          };
          if (held && registry.training) void registry.whenIdle().then(finish);
          else finish();
        },
      });
      return () => {
        clearTimeout(timer);
        unsubscribe();
        sub.unsubscribe();
      };
    });
}
