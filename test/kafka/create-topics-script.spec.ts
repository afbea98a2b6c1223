/**
 * docker/create-topics.sh, the Compose file's topic set-up, run against the shared real broker
 * with kafka-topics from the project's own Kafka jars (scripts/kafka/kafka-topics.sh) under a
 * prefix of its own, so it leaves other tests' topics alone.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigResourceTypes } from 'kafkajs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { quietKafka, unique, type KafkaClient } from './support/kafka-test-kit.ts';

const run = promisify(execFile);
const brokers = inject('kafkaBrokers');
let kafka: KafkaClient;

beforeAll(() => {
  kafka = quietKafka(brokers);
});

function createTopicsScript(prefix: string) {
  return run('bash', ['docker/create-topics.sh'], {
    env: { ...process.env, KAFKA_TOPICS_CMD: 'scripts/kafka/kafka-topics.sh', KAFKA_BOOTSTRAP: brokers.split(',')[0], TEMI_TOPIC_PREFIX: prefix, TEMI_PARTITIONS: '4' },
  });
}

describe('docker/create-topics.sh', () => {
  it('creates the pipelines\' topics with their partitions and the compacted models topic, and can run again', async () => {
    const prefix = `${unique('compose')}-`;
    await createTopicsScript(prefix);
    await createTopicsScript(prefix); // idempotent: the topics service may run on every `up`

    const admin = kafka.admin();
    await admin.connect();
    try {
      const names = ['images', 'embeddings', 'models', 'image-labels', 'images-dead-letters', 'embeddings-dead-letters'].map((n) => prefix + n);
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const partitions = Object.fromEntries(topics.map((t) => [t.name.slice(prefix.length), t.partitions.length]));
      expect(partitions).toEqual({ images: 4, embeddings: 4, models: 1, 'image-labels': 4, 'images-dead-letters': 1, 'embeddings-dead-letters': 1 });

      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: `${prefix}models`, configNames: ['cleanup.policy', 'max.message.bytes'] }],
      });
      const configs = Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
      expect(configs).toEqual({ 'cleanup.policy': 'compact', 'max.message.bytes': '67108864' });
      // Labels: compacted too, so each image's latest (possibly revised) label is what stays.
      const labels = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: `${prefix}image-labels`, configNames: ['cleanup.policy'] }] });
      expect(labels.resources[0].configEntries.map((e) => e.configValue)).toEqual(['compact']);
    } finally {
      await admin.disconnect();
    }
  });
});
