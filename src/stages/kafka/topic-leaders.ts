import type { Admin } from 'kafkajs';

/**
 * Waits until every partition of `topics` has a leader. kafkajs' createTopics `waitForLeaders`
 * gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers while a new topic's
 * metadata propagates, so under load topic creation failed at random; this polls metadata itself.
 * `partitions`, when given, must also match (a topic being created may list fewer at first).
 */
export async function waitForTopicLeaders(admin: Admin, topics: readonly string[], options: { timeoutMs: number; partitions?: number }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready =
        described.length === topics.length &&
        described.every((t) => t.partitions.length > 0 && (options.partitions === undefined || t.partitions.length === options.partitions) && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} got no leaders within ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
