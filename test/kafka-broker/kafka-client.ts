/**
 * Small kafkajs helpers for the harness specs: a quiet client, a topic that exists with its
 * leader elected, and "read everything from the beginning" without committing offsets.
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { createTopicsReady } from '../support/kafka-topics.ts';

const { Kafka, logLevel } = kafkajs;

export function quietKafka(brokers: string): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'kafka-broker-spec', brokers: [brokers], logLevel: logLevel.NOTHING });
}

export async function createTopic(kafka: InstanceType<typeof Kafka>, topic: string, numPartitions = 1): Promise<void> {
  await createTopicsReady(kafka, [topic], numPartitions);
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** Reads a topic from offset 0 in a fresh consumer group until `count` values arrived. */
export async function readValues(kafka: InstanceType<typeof Kafka>, topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      // Guards against a hang only; the spec fails with the values seen so far.
      const guard = setTimeout(() => reject(new Error(`only ${values.length}/${count} messages arrived: ${values.join(', ')}`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString('utf8') ?? '');
            if (values.length >= count) {
              clearTimeout(guard);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(guard);
          reject(error);
        });
    });
    return values;
  } finally {
    await consumer.disconnect();
  }
}
