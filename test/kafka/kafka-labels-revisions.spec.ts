/**
 * Revised labels on Kafka, against the shared real broker: the kafka-labels sink keys every label
 * by the image id, revisions included, so a reader that keeps the last value per key (what a
 * compacted topic keeps) holds each image's latest label.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTopicsReady } from '../support/kafka-topics.ts';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, groupLag, kafkaPipeline, pngMessages, produce, quietKafka, readUntil, unique, type KafkaClient, type ReadMessage } from './support/kafka-test-kit.ts';
import { startPipeline } from './support/running-pipeline.ts';

const brokers = inject('kafkaBrokers');
let kafka: KafkaClient;

beforeAll(() => {
  kafka = quietKafka(brokers);
});

interface LabelValue {
  id: string;
  cluster: number | null;
  modelVersion: number | null;
  revision?: boolean;
  previousCluster?: number | null;
  previousModelVersion?: number | null;
}

/** The last value per key, in the order the topic holds them (one key, one partition). */
function lastPerKey(messages: ReadMessage[]): Map<string, LabelValue> {
  const last = new Map<string, LabelValue>();
  for (const m of messages) last.set(m.key, JSON.parse(m.value.toString()) as LabelValue);
  return last;
}

describe('kafka-labels with label revisions', () => {
  it('keys revisions by image id, so the last value per key is each image\'s latest label', async () => {
    const t = { input: unique('rev-in'), labels: unique('rev-labels'), deadLetters: unique('rev-dlq'), groupId: unique('rev-group') };
    await createTopics(kafka, [t.input, t.deadLetters], 3);
    await createTopicsReady(kafka, [t.labels], 3, 60_000, [{ name: 'cleanup.policy', value: 'compact' }]);
    const messages = await pngMessages('rev-', 150);
    await produce(kafka, t.input, messages, 3);
    const dir = await tempDir('kafka-revisions-');
    const spec = kafkaPipeline({ brokers, ...t, stateDir: dir, maxInFlight: 256 });
    spec.stages = [
      ...(spec.stages as unknown[]),
      { use: 'index', with: { capacity: 1000 } },
      // Records that pass before the first round are emitted unassigned and the first model
      // revises them; later rounds (every one published) move the boundaries of these random images.
      { use: 'train', with: { trainer: 'kmeans', clusters: 4, firstRoundAt: 60, everyRecords: 30, k: 5, selectModel: false } },
      { use: 'assign', with: { beforeFirstModel: 'unassigned' } },
    ];
    const running = await startPipeline(spec, dir);

    const everyKeyLabelled = (read: ReadMessage[]) => {
      const last = lastPerKey(read);
      return last.size === messages.length && [...last.values()].every((v) => v.cluster !== null);
    };
    const labels = await readUntil(kafka, t.labels, everyKeyLabelled);
    const summary = await running.stop();

    const last = lastPerKey(labels);
    expect([...last.keys()].sort()).toEqual(messages.map((m) => m.key).sort());
    const revisions = labels.filter((m) => (JSON.parse(m.value.toString()) as LabelValue).revision);
    expect(revisions.length).toBeGreaterThan(0);
    expect(summary.revised).toBeGreaterThanOrEqual(revisions.length);
    // Per key: one partition, versions rising, each revision naming the value before it.
    const seen = new Map<string, { value: LabelValue; partition: number }>();
    for (const m of labels) {
      const value = JSON.parse(m.value.toString()) as LabelValue;
      expect(value.id).toBe(m.key);
      const before = seen.get(m.key);
      if (before && value.revision) {
        expect(m.partition).toBe(before.partition);
        expect(value.modelVersion!).toBeGreaterThan(before.value.modelVersion ?? 0);
        expect([value.previousCluster, value.previousModelVersion]).toEqual([before.value.cluster, before.value.modelVersion]);
      }
      seen.set(m.key, { value, partition: m.partition });
    }
    for (const [key, value] of last) {
      const versions = labels.filter((m) => m.key === key).map((m) => (JSON.parse(m.value.toString()) as LabelValue).modelVersion ?? 0);
      expect(value.modelVersion).toBe(Math.max(...versions));
    }
    // Revisions carry no source offset: every image's offset is still committed on the way out.
    expect(await groupLag(kafka, t.groupId, t.input)).toBe(0);
  });
});
