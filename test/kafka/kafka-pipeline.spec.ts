/**
 * The Kafka source and sinks against the shared real broker: images in, labels out; poison
 * messages dead-lettered while the rest flows; a slow sink bounds what is in flight while the
 * group's lag grows, and nothing is lost.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { definePlugin } from '../../src/runtime/contracts/plugin.ts';
import { services } from '../../src/runtime/contracts/services.ts';
import { s } from '../../src/runtime/schema/schema.ts';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, groupLag, hasAll, kafkaPipeline, keysOf, pngMessages, produce, quietKafka, readUntil, unique, type KafkaClient } from './support/kafka-test-kit.ts';
import { startPipeline } from './support/running-pipeline.ts';

const brokers = inject('kafkaBrokers');
let kafka: KafkaClient;

beforeAll(() => {
  kafka = quietKafka(brokers);
});

function topicsFor(name: string) {
  return { input: unique(`${name}-in`), labels: unique(`${name}-labels`), deadLetters: unique(`${name}-dlq`), groupId: unique(`${name}-group`) };
}

describe('kafka source -> decode -> pixels-embed -> kafka-labels', () => {
  it('labels every image by its id, with the ground truth from the label header', async () => {
    const t = topicsFor('e2e');
    await createTopics(kafka, [t.input, t.labels, t.deadLetters], 3);
    const messages = await pngMessages('img-', 120);
    await produce(kafka, t.input, messages, 3);
    const dir = await tempDir('kafka-e2e-');
    const running = await startPipeline(kafkaPipeline({ brokers, ...t, stateDir: dir }), dir);

    const labels = await readUntil(kafka, t.labels, hasAll(messages.map((m) => m.key)));
    const summary = await running.stop();

    const byKey = new Map(labels.map((m) => [m.key, JSON.parse(m.value.toString()) as Record<string, unknown>]));
    expect(byKey.size).toBe(120);
    const first = byKey.get('img-13')!;
    expect(first).toMatchObject({ id: 'img-13', label: 3, cluster: null, confidence: null, modelVersion: null });
    expect(typeof first.ts).toBe('number');
    expect(summary.deadLettered).toBe(0);
    // Everything acknowledged is committed on the way out: a restarted group has nothing left to read.
    expect(await groupLag(kafka, t.groupId, t.input)).toBe(0);
  });

  it('dead-letters an empty value, a malformed envelope and undecodable bytes with where they came from, and labels the rest', async () => {
    const t = topicsFor('poison');
    await createTopics(kafka, [t.input, t.labels, t.deadLetters]);
    const good = await pngMessages('ok-', 30);
    const envelope = { key: 'env-1', value: Buffer.from(JSON.stringify({ id: 'env-1', image: good[0].value.toString('base64'), label: 7 })) };
    const poison = [
      { key: 'empty-1', value: Buffer.alloc(0) },
      { key: 'broken-envelope', value: Buffer.from('{"id": "x", "image": ') },
      { key: 'not-an-image', value: Buffer.from('these bytes are no image at all') },
    ];
    // Poison in the middle: the messages after it must still flow and their offsets commit.
    await produce(kafka, t.input, [...good.slice(0, 10), ...poison, envelope, ...good.slice(10)]);
    const dir = await tempDir('kafka-poison-');
    const running = await startPipeline(kafkaPipeline({ brokers, ...t, stateDir: dir }), dir);

    const expected = [...good.map((m) => m.key), 'env-1'];
    const labels = await readUntil(kafka, t.labels, hasAll(expected));
    const letters = await readUntil(kafka, t.deadLetters, (m) => m.length >= 3);
    const summary = await running.stop();

    expect([...keysOf(labels)].sort()).toEqual([...expected].sort());
    expect(JSON.parse(labels.find((m) => m.key === 'env-1')!.value.toString())).toMatchObject({ id: 'env-1', label: 7 });
    const byKey = new Map(letters.map((l) => [l.key, l]));
    expect([...byKey.keys()].sort()).toEqual(['broken-envelope', 'empty-1', 'not-an-image']);
    expect(byKey.get('empty-1')!.headers).toMatchObject({ stage: 'kafka', code: 'TS_ERR_KAFKA_EMPTY_VALUE', 'origin-topic': t.input, 'origin-partition': '0', 'origin-offset': '10' });
    expect(byKey.get('empty-1')!.headers.reason).toContain(`${t.input}/0@10`);
    expect(byKey.get('broken-envelope')!.headers.code).toBe('TS_ERR_ENVELOPE_JSON');
    expect(byKey.get('broken-envelope')!.headers.reason).toContain(`${t.input}/0@11`);
    expect(byKey.get('broken-envelope')!.value.toString()).toBe('{"id": "x", "image": ');
    expect(byKey.get('not-an-image')!.headers.stage).toBe('decode');
    expect(byKey.get('not-an-image')!.headers.reason).toContain(`${t.input}/0@12`);
    expect(byKey.get('not-an-image')!.value.toString()).toBe('these bytes are no image at all');
    expect(summary.deadLettered).toBe(3);
    expect(await groupLag(kafka, t.groupId, t.input)).toBe(0);
  });

  it('with a slow sink keeps at most maxInFlight records in flight while the lag grows, and loses nothing', async () => {
    const t = topicsFor('slow');
    await createTopics(kafka, [t.input, t.deadLetters]);
    const messages = await pngMessages('slow-', 240);
    await produce(kafka, t.input, messages);
    const written: string[] = [];
    let mostInFlight = 0;
    const slowSink = definePlugin({
      name: 'slow-test-sink',
      kind: 'sink',
      description: 'Takes 40 ms per batch of 8 and remembers the keys and the in-flight count it saw.',
      configSchema: s.object({}),
      deps: { flow: services.flow },
      create: ({ deps }) => ({
        batching: { maxSize: 8, maxWaitMs: 5 },
        async write(records) {
          mostInFlight = Math.max(mostInFlight, deps.flow.inFlight);
          await new Promise((r) => setTimeout(r, 40));
          written.push(...records.map((r) => r.key));
        },
      }),
    });
    const dir = await tempDir('kafka-slow-');
    const spec = kafkaPipeline({ brokers, ...t, stateDir: dir, maxInFlight: 32, sink: { use: 'slow-test-sink', with: {} } });
    const running = await startPipeline(spec, dir, [slowSink]);

    // Lag is sampled while the sink works through the topic (from its first write on, so the
    // group has joined and committed): the source must not read ahead of the in-flight bound.
    const lags: number[] = [];
    while (new Set(written).size < messages.length) {
      if (written.length > 0) lags.push(await groupLag(kafka, t.groupId, t.input));
      await new Promise((r) => setTimeout(r, 150));
    }
    await running.stop();

    expect(new Set(written)).toEqual(new Set(messages.map((m) => m.key)));
    expect(mostInFlight).toBeLessThanOrEqual(32);
    expect(Math.max(...lags)).toBeGreaterThan(100);
    expect(await groupLag(kafka, t.groupId, t.input)).toBe(0);
  });

  it('keeps its group membership while a sink stalls for longer than the session timeout: nothing is read twice', async () => {
    const t = topicsFor('stall');
    await createTopics(kafka, [t.input, t.deadLetters]);
    const messages = await pngMessages('stall-', 100);
    await produce(kafka, t.input, messages);
    const written: string[] = [];
    let stalled = false;
    const stallingSink = definePlugin({
      name: 'stalling-test-sink',
      kind: 'sink',
      description: 'Stalls its first write for 9 s (the group session times out after 6 s of silence).',
      configSchema: s.object({}),
      deps: {},
      create: () => ({
        batching: { maxSize: 8, maxWaitMs: 5 },
        async write(records) {
          if (!stalled) {
            stalled = true;
            await new Promise((r) => setTimeout(r, 9_000));
          }
          written.push(...records.map((r) => r.key));
        },
      }),
    });
    const dir = await tempDir('kafka-stall-');
    // The source fills the in-flight bound and then waits inside its batch, heartbeating.
    const spec = kafkaPipeline({ brokers, ...t, stateDir: dir, maxInFlight: 16, sink: { use: 'stalling-test-sink', with: {} } });
    const running = await startPipeline(spec, dir, [stallingSink]);
    while (new Set(written).size < messages.length) await new Promise((r) => setTimeout(r, 100));
    await running.stop();

    // A member that lost its session would have its partition re-read from the last commit.
    expect(written).toHaveLength(messages.length);
    expect(new Set(written)).toEqual(new Set(messages.map((m) => m.key)));
    expect(running.logs.text).not.toMatch(/rebalanc|not aware of this member|UNKNOWN_MEMBER_ID/i);
  });

  it('commits offsets as records are acknowledged without stateful stages, and only after a durable snapshot with them', async () => {
    const stateless = topicsFor('stateless');
    const stateful = topicsFor('stateful');
    await createTopics(kafka, [stateless.input, stateless.labels, stateless.deadLetters, stateful.input, stateful.labels, stateful.deadLetters]);
    const messages = await pngMessages('commit-', 60);
    await produce(kafka, stateless.input, messages);
    await produce(kafka, stateful.input, messages);
    const ids = messages.map((m) => m.key);

    // decode alone keeps no state: the group's position follows the acknowledgements.
    const dirA = await tempDir('kafka-stateless-');
    const specA = { ...kafkaPipeline({ brokers, ...stateless, stateDir: dirA }), stages: [{ use: 'decode', with: { preset: 'mnist' } }] };
    const a = await startPipeline(specA, dirA);
    await readUntil(kafka, stateless.labels, hasAll(ids));
    let lag = await groupLag(kafka, stateless.groupId, stateless.input);
    for (let polls = 0; lag > 0 && polls < 100; polls++) {
      await new Promise((r) => setTimeout(r, 100));
      lag = await groupLag(kafka, stateless.groupId, stateless.input);
    }
    expect(lag).toBe(0);
    await a.stop();

    // pixels-embed snapshots: with no snapshot taken yet, nothing is committed however much is labelled.
    const dirB = await tempDir('kafka-stateful-');
    const specB = kafkaPipeline({ brokers, ...stateful, stateDir: dirB });
    const b = await startPipeline({ ...specB, state: { ...(specB.state as object), snapshotIntervalMs: 600_000 } }, dirB);
    await readUntil(kafka, stateful.labels, hasAll(ids));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await groupLag(kafka, stateful.groupId, stateful.input)).toBe(60);
    await b.stop();
    expect(await groupLag(kafka, stateful.groupId, stateful.input)).toBe(0);
  });
});
