/**
 * Worker side of scale-out: every record's embedding goes to the embeddings topic the trainer
 * consumes, and the record moves on only once the broker acknowledged that write. A record is
 * therefore never labelled (and its input offset never committed) before the trainer can see it.
 */
import { mergeMap } from 'rxjs';
import { definePlugin, type StreamRecord, services, s } from '../../runtime/contracts/index.ts';
import { mapBatches } from '../../runtime/operators/index.ts';
import { createKafkaClient, kafkaConnectionShape } from '../kafka/kafka-connection.ts';
import { DurableProducer } from '../kafka/kafka-producer.ts';
import { encodeEmbedding } from './embedding-message.ts';
import { ensureTopic } from './ensure-topic.ts';

export const embeddingsPublishStagePlugin = definePlugin({
  name: 'embeddings-publish',
  kind: 'stage',
  description:
    'Produces each record\'s embedding to a topic (key = record key, value = little-endian float32 bytes, headers id/dim/label) with an idempotent producer and acks from all replicas, and passes the record on only after the broker acknowledged it. The worker half of the workers/trainer split.',
  configSchema: s.object({
    ...kafkaConnectionShape,
    topic: s.string({ minLength: 1, description: 'Embeddings topic the trainer consumes.', examples: ['embeddings'] }),
    partitions: s.integer({ min: 1, default: 4, description: 'Partitions when this stage creates the topic (only if it does not exist).' }),
    batchSize: s.integer({ min: 1, default: 256, description: 'Embeddings per produce request.' }),
    maxWaitMs: s.integer({ min: 0, default: 20, description: 'Longest a partial batch waits before it is sent.' }),
  }),
  provides: {},
  deps: { pipeline: services.pipeline, logger: services.logger, deadLetters: services.deadLetters, metrics: services.metrics, flow: services.flow },
  create({ config, deps, instanceName }) {
    const logger = deps.logger.child({ stage: instanceName });
    const connection = { baseDir: deps.pipeline.baseDir, logger, where: instanceName };
    const producer = new DurableProducer(config, connection);
    const published = deps.metrics.counter('temi_embeddings_published_total', 'Embeddings acknowledged by the broker', ['stage']);

    const publish = async (batch: StreamRecord[]): Promise<StreamRecord[]> => {
      const ready: StreamRecord[] = [];
      for (const record of batch) {
        if (record.payload.embedding) ready.push(record);
        else await deps.deadLetters.send({ record, stage: instanceName, code: 'TS_ERR_EMBEDDINGS_PUBLISH_NO_EMBEDDING', reason: `${record.key}: record has no embedding (put an embed stage before embeddings-publish)` });
      }
      // A failed send fails the run instead of dead-lettering: the broker being away is not the
      // record's fault, and unacknowledged records are read again after a restart.
      await producer.send(config.topic, ready.map((r) => encodeEmbedding(r.key, r.id, r.payload.embedding!, r.metadata.label)));
      published.inc({ stage: instanceName }, ready.length);
      return ready;
    };

    return {
      async start() {
        await ensureTopic(createKafkaClient(config, connection), config.topic, { partitions: config.partitions, config: {} }, logger, instanceName);
        await producer.connect();
      },
      operator: (input) =>
        input.pipe(
          mapBatches({ maxSize: config.batchSize, maxWaitMs: config.maxWaitMs, flow: deps.flow }, publish),
          mergeMap((records) => records),
        ),
      stop: () => producer.disconnect(),
    };
  },
});
