import { definePlugin, services, s } from '../../runtime/contracts/index.ts';
import { DurableProducer } from './kafka-producer.ts';
import { kafkaConnectionShape } from './kafka-connection.ts';
import { labelMessage } from './label-message.ts';

export const kafkaLabelsSinkPlugin = definePlugin({
  // Plugin names are unique across kinds; the source owns "kafka".
  name: 'kafka-labels',
  kind: 'sink',
  description:
    'Writes one label message per record to a topic: key = image id, value = JSON {id, cluster, confidence, modelVersion, ts, label?}. A revised label (a newer model changed the cluster) goes out with the same key and {revision: true, previousCluster, previousModelVersion}, so a compacted topic keeps each image\'s latest label. Idempotent producer, acks from all replicas; records are acknowledged only after the broker confirmed the write.',
  configSchema: s.object({
    ...kafkaConnectionShape,
    topic: s.string({ minLength: 1, description: 'Topic the labels go to.', examples: ['image-labels'] }),
    batchSize: s.integer({ min: 1, default: 500, description: 'Records per produce request.' }),
    maxWaitMs: s.integer({ min: 0, default: 50, description: 'Longest a partial batch waits before it is sent.' }),
  }),
  deps: { pipeline: services.pipeline, logger: services.logger, clock: services.clock },
  create({ config, deps, instanceName }) {
    const producer = new DurableProducer(config, { baseDir: deps.pipeline.baseDir, logger: deps.logger.child({ stage: instanceName }), where: instanceName });
    return {
      batching: { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs },
      start: () => producer.connect(),
      write: (records) => {
        const now = deps.clock.now();
        return producer.send(config.topic, records.map((r) => labelMessage(r, now)));
      },
      stop: () => producer.disconnect(),
    };
  },
});
