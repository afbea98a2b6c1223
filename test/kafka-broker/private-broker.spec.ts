import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { createTopic, quietKafka, readValues, uniqueTopic } from './kafka-client.ts';

describe('a private broker that a test can take away and bring back', () => {
  let broker: KafkaBroker;

  beforeAll(async () => {
    broker = await startKafkaBroker();
  });
  afterAll(async () => {
    await broker?.destroy();
  });

  it('keeps a topic and its messages across a clean stop and restart, on the same address', async () => {
    const addressBefore = broker.brokers;
    const kafka = quietKafka(broker.brokers);
    const topic = uniqueTopic('survives-stop');
    await createTopic(kafka, topic);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await producer.disconnect();

    await broker.stop();
    expect(broker.pid()).toBeUndefined();
    await broker.restart();

    expect(broker.brokers).toBe(addressBefore);
    expect(broker.pid()).toBeGreaterThan(0);
    expect(await readValues(kafka, topic, 3)).toEqual(['a', 'b', 'c']);
  });

  it('recovers acknowledged messages after being killed (SIGKILL)', async () => {
    const kafka = quietKafka(broker.brokers);
    const topic = uniqueTopic('survives-kill');
    await createTopic(kafka, topic);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['x', 'y'].map((value) => ({ value })) });
    await producer.disconnect();

    await broker.kill();
    await broker.restart();

    expect(await readValues(kafka, topic, 2)).toEqual(['x', 'y']);
  });

  it('lets a connected producer carry on after the broker restarts under it', async () => {
    const kafka = quietKafka(broker.brokers);
    const topic = uniqueTopic('reconnect');
    await createTopic(kafka, topic);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] });
      await broker.restart();
      await producer.send({ topic, acks: -1, messages: [{ value: 'after' }] });
    } finally {
      await producer.disconnect();
    }

    expect(await readValues(kafka, topic, 2)).toEqual(['before', 'after']);
  });
});

describe('a broker that cannot start', () => {
  it('says to run setup:kafka when the jars are missing', async () => {
    await expect(startKafkaBroker({ libsDir: '/nonexistent/kafka-libs' })).rejects.toThrow(
      /TS_ERR_KAFKA_BROKER_JARS_MISSING.*npm run setup:kafka/,
    );
  });

  it('reports the broker log when its port is taken', async () => {
    // Hangs up on whoever connects, so the harness's readiness probe cannot keep it open.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const address = squatter.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await expect(startKafkaBroker({ port })).rejects.toThrow(/TS_ERR_KAFKA_BROKER_START[\s\S]*Address already in use/);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
