/**
 * The broker goes away under a running pipeline (clean stop, then a crash) and comes back on the
 * same address: the source's consumer and the sink's producer reconnect within their retry budget,
 * and every image is labelled. Uses a private broker: the shared one must never be stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, groupLag, hasAll, kafkaPipeline, keysOf, pngMessages, produce, quietKafka, readUntil, unique } from './support/kafka-test-kit.ts';
import { startPipeline } from './support/running-pipeline.ts';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker();
});

afterAll(async () => {
  await broker?.destroy();
});

describe('kafka pipeline while the broker restarts', () => {
  it('reconnects after a clean stop and after a kill, and labels every image', async () => {
    const kafka = quietKafka(broker.brokers);
    const t = { input: unique('restart-in'), labels: unique('restart-labels'), deadLetters: unique('restart-dlq'), groupId: unique('restart-group') };
    await createTopics(kafka, [t.input, t.labels, t.deadLetters]);
    const batches = [await pngMessages('a-', 1500), await pngMessages('b-', 200, 1500), await pngMessages('c-', 200, 1700)];
    const dir = await tempDir('kafka-restart-');
    const running = await startPipeline(kafkaPipeline({ brokers: broker.brokers, ...t, stateDir: dir, maxInFlight: 64 }), dir);

    // Taken away while the first batch is being worked through: records are in flight, the sink's
    // writes and the source's commits fail until the broker is back.
    await produce(kafka, t.input, batches[0]);
    await readUntil(kafka, t.labels, (m) => m.length >= 50);
    await broker.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    await broker.restart();
    await produce(kafka, t.input, batches[1]);
    await readUntil(kafka, t.labels, hasAll(batches[1].map((m) => m.key)), 120_000);

    await broker.kill();
    await broker.restart();
    await produce(kafka, t.input, batches[2]);
    const all = batches.flat().map((m) => m.key);
    const labels = await readUntil(kafka, t.labels, hasAll(all), 120_000);
    const summary = await running.stop();

    expect(keysOf(labels).size).toBe(all.length);
    expect(summary.stopped).toBe(true);
    expect(await groupLag(kafka, t.groupId, t.input)).toBe(0);
  });
});
