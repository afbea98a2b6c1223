import { definePlugin, services, s } from '../../runtime/contracts/index.ts';
import type { TopicPartitionOffset } from './commit-ledger.ts';
import { createKafkaClient, kafkaConnectionShape } from './kafka-connection.ts';
import { KafkaImageConsumer } from './kafka-image-consumer.ts';

/** The Kafka source plugin: its config (one schema) and its wiring; the consumer itself is KafkaImageConsumer. */

export const kafkaSourceConfigSchema = s.object({
  ...kafkaConnectionShape,
  topics: s.array(s.string({ minLength: 1 }), { minItems: 1, description: 'Topics to consume images from.', examples: [['images']] }),
  groupId: s.string({ minLength: 1, description: 'Consumer group: processes with the same group share the partitions; committed offsets belong to it.' }),
  fromBeginning: s.boolean({ default: true, description: 'Where a group without committed offsets starts: the earliest message (true) or only new ones (false).' }),
  format: s.enum(['auto', 'raw', 'envelope'] as const, {
    default: 'auto',
    description: 'Message value: "raw" image bytes (key = image id), "envelope" JSON {id, image (base64), label?, headers?}, or "auto" (a value starting with "{" is an envelope).',
  }),
  labelHeader: s.string({ minLength: 1, default: 'label', description: 'Header that carries the ground-truth class (a non-negative integer), if any.' }),
  sessionTimeoutMs: s.integer({ min: 1_000, default: 30_000, description: 'Group session timeout: a member silent this long loses its partitions.' }),
  heartbeatIntervalMs: s.integer({ min: 100, default: 3_000, description: 'Heartbeat interval; heartbeats also go out between records and while waiting for in-flight room.' }),
  maxBytesPerPartition: s.integer({ min: 1_024, default: 1_048_576, description: 'Largest fetch per partition; must exceed the largest message.' }),
  fetchMaxWaitMs: s.integer({ min: 10, default: 500, description: 'Longest the broker holds a fetch open when there is nothing new; also bounds how long a shutdown waits for the fetch in progress.' }),
  commitIntervalMs: s.integer({ min: 10, default: 1_000, description: 'How often acknowledged offsets are committed (also on rebalance and on shutdown) in a pipeline without stateful stages; with them, offsets are committed after each durable snapshot (state.snapshotIntervalMs).' }),
});

export const kafkaSourcePlugin = definePlugin({
  name: 'kafka',
  kind: 'source',
  description:
    'Consumes images from Kafka topics in a consumer group: raw JPEG/PNG/WebP values keyed by image id, or JSON envelopes. Pauses the consumer when the in-flight bound is reached, commits only acknowledged offsets (at-least-once), dead-letters empty or malformed messages.',
  configSchema: kafkaSourceConfigSchema,
  provides: { payload: ['bytes'] },
  deps: { pipeline: services.pipeline, records: services.records, deadLetters: services.deadLetters, logger: services.logger, metrics: services.metrics },
  create({ config, deps, instanceName }) {
    const logger = deps.logger.child({ stage: instanceName });
    const consumer = new KafkaImageConsumer(config, {
      kafka: createKafkaClient(config, { baseDir: deps.pipeline.baseDir, logger, where: instanceName }),
      records: deps.records,
      deadLetters: deps.deadLetters,
      logger,
      lag: deps.metrics.gauge('temi_kafka_source_lag', 'Messages behind the partition end at the start of the last batch', ['topic', 'partition']),
      instanceName,
    });
    return {
      start: () => consumer.connect(),
      open: (flow) => consumer.records(flow, () => deps.pipeline.stateful),
      close: () => consumer.close(),
      checkpoint: () => consumer.checkpoint(),
      commitCheckpoint: (checkpoint) => consumer.commitCheckpoint(checkpoint as TopicPartitionOffset[]),
      snapshot: () => ({ committed: consumer.committedPositions() }),
      restore(state) {
        // Kafka's committed offsets stay the source of truth; the snapshot says what this process had committed.
        const committed = (state as { committed?: unknown } | undefined)?.committed;
        if (committed) logger.info('snapshot taken with these committed offsets (the group resumes from Kafka\'s own)', { committed });
      },
      stop: () => consumer.stop(),
    };
  },
});
