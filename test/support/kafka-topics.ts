import type { Kafka } from 'kafkajs';

/**
 * Creates topics and waits until every partition has a leader. kafkajs' own `waitForLeaders`
 * polls metadata with a retry policy that gives up on UNKNOWN_TOPIC_OR_PARTITION ("This server
 * does not host this topic-partition"), which a KRaft broker answers while the new topic's
 * metadata propagates; under load that made topic creation flaky, so we poll ourselves.
 */
export async function createTopicsReady(kafka: Kafka, topics: readonly string[], numPartitions = 1, timeoutMs = 60_000, configEntries?: { name: string; value: string }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions, ...(configEntries ? { configEntries } : {}) })), waitForLeaders: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
        const ready = described.length === topics.length && described.every((t) => t.partitions.length === numPartitions && t.partitions.every((p) => p.leader >= 0));
        if (ready) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} got no leaders within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}
