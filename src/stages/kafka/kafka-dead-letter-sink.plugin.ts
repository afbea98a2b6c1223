import { definePlugin, services, s } from '../../runtime/contracts/index.ts';
import { DurableProducer } from './kafka-producer.ts';
import { kafkaConnectionShape } from './kafka-connection.ts';
import { deadLetterHeaders } from './label-message.ts';

export const kafkaDeadLetterSinkPlugin = definePlugin({
  name: 'kafka-dead-letter',
  kind: 'sink',
  description:
    'Writes dead letters to a topic: value = the original message bytes (empty when there were none), key = the record key, headers stage, code, reason and origin-topic/-partition/-offset. Records are acknowledged after the broker confirmed the write.',
  configSchema: s.object({
    ...kafkaConnectionShape,
    topic: s.string({ minLength: 1, description: 'Topic the dead letters go to.', examples: ['images-dead-letters'] }),
  }),
  deps: { pipeline: services.pipeline, logger: services.logger },
  create({ config, deps, instanceName }) {
    const producer = new DurableProducer(config, { baseDir: deps.pipeline.baseDir, logger: deps.logger.child({ stage: instanceName }), where: instanceName });
    return {
      batching: { maxSize: 1, maxWaitMs: 0 },
      start: () => producer.connect(),
      write: (records) =>
        producer.send(
          config.topic,
          records.map((r) => {
            const letter = r.payload.deadLetter as { stage: string; code: string; reason: string; at: number };
            const bytes = r.payload.bytes;
            return {
              key: r.key,
              value: bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0),
              headers: deadLetterHeaders(r, letter),
            };
          }),
        ),
      stop: () => producer.disconnect(),
    };
  },
});
