/**
 * Trainer side of the embeddings topic: turns a message read by the kafka source (format "raw":
 * payload.bytes = the value) back into payload.embedding. The ground-truth label rides in the
 * `label` header, which the kafka source already put into the record's metadata.
 */
import { definePlugin, services, TemiError, s } from '../../runtime/contracts/index.ts';
import { perRecord } from '../../runtime/operators/index.ts';
import { decodeEmbedding } from './embedding-message.ts';

export const embeddingDecodeStagePlugin = definePlugin({
  name: 'embedding-decode',
  kind: 'stage',
  description:
    'Reads payload.bytes as a little-endian float32 embedding (as embeddings-publish writes it) into payload.embedding. Values whose length is not 4 x dim, that disagree with the dim or id header, or hold NaN/Infinity are dead-lettered.',
  configSchema: s.object({
    dim: s.optional(s.integer({ min: 1, description: 'Expected dimension; records of another size are dead-lettered (any size when absent).' })),
  }),
  needs: { payload: ['bytes'] },
  provides: { payload: ['embedding'] },
  deps: { deadLetters: services.deadLetters },
  create({ config, deps, instanceName }) {
    return {
      operator: perRecord({ stage: instanceName, deadLetters: deps.deadLetters }, (record) => {
        const bytes = record.payload.bytes;
        if (!bytes) throw new TemiError('TS_ERR_EMBEDDING_LENGTH', 'record has no bytes (read the embeddings topic with the kafka source, format "raw")', { where: record.key });
        const headers = record.metadata.headers;
        // The id travels as a header for consumers outside this project; here both sides derive it from the key.
        if (headers.id !== undefined && headers.id !== record.id.toString()) {
          throw new TemiError('TS_ERR_EMBEDDING_ID', `header id ${JSON.stringify(headers.id.slice(0, 24))} is not the id of key ${JSON.stringify(record.key)} (${record.id})`, { where: record.key });
        }
        const embedding = decodeEmbedding(bytes, headers, record.key);
        if (config.dim !== undefined && embedding.length !== config.dim) {
          throw new TemiError('TS_ERR_EMBEDDING_LENGTH', `embedding has ${embedding.length} dimensions, expected ${config.dim}`, { where: record.key });
        }
        record.payload.embedding = embedding;
        delete record.payload.bytes;
        return record;
      }),
    };
  },
});
