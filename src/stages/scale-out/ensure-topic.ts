/**
 * Creates a topic with the given settings when it does not exist yet; an existing topic is left as
 * it is (its owner may have tuned it), except that a models topic which is not compacted is
 * reported, because then old versions are deleted by age and a new worker may find nothing.
 */
import { type Logger, reasonOf, TemiError } from '../../runtime/contracts/index.ts';
import type { KafkaClient } from '../kafka/kafka-connection.ts';
import { waitForTopicLeaders } from '../kafka/topic-leaders.ts';

const LEADER_TIMEOUT_MS = 60_000;

export interface TopicSettings {
  readonly partitions: number;
  readonly config: Record<string, string>;
}

export async function ensureTopic(kafka: KafkaClient, topic: string, settings: TopicSettings, logger: Logger, where: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      const configEntries = Object.entries(settings.config).map(([name, value]) => ({ name, value }));
      // false also when another process created it between list and create: that is fine.
      const created = await admin.createTopics({ topics: [{ topic, numPartitions: settings.partitions, configEntries }], waitForLeaders: false });
      await waitForTopicLeaders(admin, [topic], { timeoutMs: LEADER_TIMEOUT_MS });
      if (created) logger.info('topic created', { topic, partitions: settings.partitions, config: settings.config });
      return;
    }
    const wanted = settings.config['cleanup.policy'];
    if (wanted) {
      const described = await admin.describeConfigs({ resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
      const actual = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      if (actual !== undefined && !actual.split(',').includes(wanted)) {
        logger.warn(`topic exists with cleanup.policy=${actual}; expected ${wanted}`, { topic });
      }
    }
  } catch (error) {
    throw new TemiError('TS_ERR_KAFKA_TOPIC', `could not check or create topic "${topic}": ${reasonOf(error)}`, { where, cause: error });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
