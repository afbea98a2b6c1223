import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sharedKafkaBrokers } from '../support/kafka-broker.ts';
import { createTopic, quietKafka, readValues, uniqueTopic } from './kafka-client.ts';

describe('the shared test broker', () => {
  const kafka = quietKafka(sharedKafkaBrokers());
  const producer = kafka.producer();

  beforeAll(async () => {
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
  });

  it('is announced to spec files both through inject and KAFKA_BROKERS', () => {
    expect(inject('kafkaBrokers')).toMatch(/^[\w.-]+:\d+$/);
    expect(sharedKafkaBrokers()).toBe(inject('kafkaBrokers'));
  });

  it('delivers produced messages, in order, to a consumer', async () => {
    const topic = uniqueTopic('roundtrip');
    await createTopic(kafka, topic);
    const sent = ['first', 'second', 'third', 'fourth'];
    await producer.send({ topic, acks: -1, messages: sent.map((value) => ({ value })) });

    expect(await readValues(kafka, topic, sent.length)).toEqual(sent);
  });

  it('creates a topic on first use (auto.create.topics.enable)', async () => {
    const topic = uniqueTopic('auto-created');
    // The first send may race the topic's creation; kafkajs retries until the leader exists.
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'hello' }] });

    expect(await readValues(kafka, topic, 1)).toEqual(['hello']);
  });
});
