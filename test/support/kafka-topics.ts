import type { Kafka } from 'kafkajs';
import { waitForTopicLeaders } from '../../src/stages/kafka/topic-leaders.ts';

/** Creates topics and waits until every partition has a leader (see waitForTopicLeaders for why not kafkajs' own wait). */
export async function createTopicsReady(kafka: Kafka, topics: readonly string[], numPartitions = 1, timeoutMs = 60_000, configEntries?: { name: string; value: string }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions, ...(configEntries ? { configEntries } : {}) })), waitForLeaders: false });
    await waitForTopicLeaders(admin, topics, { timeoutMs, partitions: numPartitions });
  } finally {
    await admin.disconnect();
  }
}
