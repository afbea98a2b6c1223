import { clusteringServices, definePlugin, services, TemiError, s } from '../../runtime/contracts/index.ts';
import { perBatch } from '../../runtime/operators/index.ts';
import { LazyVectorIndex } from './lazy-vector-index.ts';

export const indexStagePlugin = definePlugin({
  name: 'index',
  kind: 'stage',
  description: 'Adds each record embedding to an incremental usearch HNSW index (keyed by record id, bounded by a window or reservoir) that trainers mine neighbour pairs from. Work runs on a worker thread.',
  configSchema: s.object({
    metric: s.enum(['cos', 'l2sq', 'ip'] as const, { default: 'cos', description: 'Distance for neighbours; TEMI mines cosine neighbours.' }),
    connectivity: s.integer({ min: 2, max: 256, default: 16, description: 'HNSW graph degree (M).' }),
    expansionAdd: s.integer({ min: 1, default: 128, description: 'HNSW efConstruction.' }),
    expansionSearch: s.integer({ min: 1, default: 64, description: 'HNSW ef at query time.' }),
    quantization: s.enum(['f32', 'f16', 'i8'] as const, { default: 'f32', description: 'Scalar type stored in the graph.' }),
    capacity: s.integer({ min: 2, default: 100_000, description: 'Most vectors kept; the policy decides which.' }),
    policy: s.enum(['window', 'reservoir'] as const, { default: 'window', description: 'window keeps the newest vectors; reservoir a uniform sample of the whole stream.' }),
    seed: s.integer({ default: 0 }),
    batchSize: s.integer({ min: 1, default: 256, description: 'Vectors per add call.' }),
    maxWaitMs: s.integer({ min: 0, default: 50 }),
  }),
  needs: { payload: ['embedding'] },
  provides: { services: [clusteringServices.vectorIndex] },
  deps: { deadLetters: services.deadLetters, state: services.state, metrics: services.metrics, progress: services.progress, flow: services.flow },
  create({ config, deps, instanceName }) {
    const index = new LazyVectorIndex(
      { metric: config.metric, connectivity: config.connectivity, expansionAdd: config.expansionAdd, expansionSearch: config.expansionSearch, quantization: config.quantization, capacity: config.capacity, policy: config.policy, seed: config.seed },
      deps.state.path('index'),
    );
    const indexSize = deps.metrics.gauge('temi_index_vectors', 'Vectors kept in the index', ['stage']);
    const indexed = deps.progress.counter('indexed');
    return {
      provides: [[clusteringServices.vectorIndex, index]],
      operator: perBatch({ stage: instanceName, deadLetters: deps.deadLetters }, { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs, flow: deps.flow }, async (records) => {
        const dim = records[0].payload.embedding?.length ?? 0;
        for (const r of records) {
          if (!r.payload.embedding) throw new TemiError('TS_ERR_INDEX_NO_EMBEDDING', 'record has no embedding (put an embed stage before index)', { where: r.key });
          if (r.payload.embedding.length !== dim) throw new TemiError('TS_ERR_INDEX_BAD_VECTOR', `embedding length ${r.payload.embedding.length} differs from the batch's ${dim}`, { where: r.key });
        }
        const keys = BigUint64Array.from(records, (r) => r.id);
        const vectors = new Float32Array(records.length * dim);
        records.forEach((r, i) => vectors.set(r.payload.embedding!, i * dim));
        await index.add(keys, vectors, dim);
        indexSize.set(index.size, { stage: instanceName });
        indexed.add(records.length);
        return records;
      }),
      snapshot: async () => ({ saved: await index.save(), added: index.added }),
      restore: async (state) => index.restore((state as { added?: number }).added ?? 0),
      stop: () => index.close(),
    };
  },
});
