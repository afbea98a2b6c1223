/**
 * The producer both Kafka sinks use: idempotent (no duplicates from its own retries), acks from
 * all in-sync replicas, so a send resolves only once the write is durable and the runtime may ack.
 */
import type { Message, Producer } from 'kafkajs';
import { type Logger } from '../../runtime/contracts/index.ts';
import { createKafkaClient, type KafkaConnectionConfig } from './kafka-connection.ts';

export class DurableProducer {
  private readonly producer: Producer;

  constructor(config: KafkaConnectionConfig, options: { baseDir: string; logger: Logger; where: string }) {
    const kafka = createKafkaClient(config, options);
    // kafkajs allows an idempotent producer at most one request in flight per broker connection
    // (it keeps ordering that way); retries are bounded by the connection's retry budget.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.send({ topic, messages, acks: -1 });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
