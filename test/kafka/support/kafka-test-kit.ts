/**
 * What the Kafka source/sink specs share: a quiet client, topics, small PNG messages (sharp-encoded
 * noise, 28x28 grayscale, keyed by image id, ground truth in the `label` header), readers for the
 * labels and dead-letter topics, the group's lag, and the pipeline these specs run:
 * kafka -> decode (mnist preset) -> pixels-embed -> kafka-labels (dead letters to a topic).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import kafkajs, { type IHeaders } from 'kafkajs';
import sharp from 'sharp';
import { createTopicsReady } from '../../support/kafka-topics.ts';

const { Kafka, logLevel } = kafkajs;
export type KafkaClient = InstanceType<typeof Kafka>;

export function quietKafka(brokers: string): KafkaClient {
  return new Kafka({ clientId: 'kafka-stage-spec', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 30, maxRetryTime: 3_000 } });
}

export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopics(kafka: KafkaClient, topics: string[], numPartitions = 1): Promise<void> {
  await createTopicsReady(kafka, topics, numPartitions);
}

/** A 28x28 grayscale PNG of random pixels (about 900 bytes): every image distinct. */
export async function randomPng(): Promise<Buffer> {
  return sharp(randomBytes(28 * 28), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
}

export interface InputMessage {
  key: string;
  value: Buffer;
  headers?: IHeaders;
}

/** `count` PNG messages with ids `<prefix><i>` and labels i % 10 in the header. */
export async function pngMessages(prefix: string, count: number, from = 0): Promise<InputMessage[]> {
  const out: InputMessage[] = [];
  for (let i = from; i < from + count; i++) out.push({ key: `${prefix}${i}`, value: await randomPng(), headers: { label: String(i % 10) } });
  return out;
}

export async function produce(kafka: KafkaClient, topic: string, messages: InputMessage[], partitions = 1): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 200) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 200).map((m, j) => ({ ...m, partition: (i + j) % partitions })) });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: string;
  timestamp: number;
}

/**
 * Reads a topic from the beginning (fresh group, nothing committed) until `done` says so; fails
 * with what arrived when `guardMs` passes first (a guard against hangs, not a timing assertion).
 */
export async function readUntil(kafka: KafkaClient, topic: string, done: (messages: ReadMessage[]) => boolean, guardMs = 90_000): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: unique('reader'), sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  const messages: ReadMessage[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`gave up on ${topic} after ${messages.length} messages`)), guardMs);
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
            messages.push({ key: message.key?.toString() ?? '', value: message.value ?? Buffer.alloc(0), headers, partition, offset: message.offset, timestamp: Number(message.timestamp) });
            if (done(messages)) {
              clearTimeout(guard);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(guard);
          reject(error);
        });
      if (done(messages)) {
        clearTimeout(guard);
        resolve();
      }
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Distinct keys seen, for "every id has a label" checks (duplicates are allowed: at-least-once). */
export function keysOf(messages: ReadMessage[]): Set<string> {
  return new Set(messages.map((m) => m.key));
}

export function hasAll(ids: readonly string[]): (messages: ReadMessage[]) => boolean {
  return (messages) => {
    const seen = keysOf(messages);
    return ids.every((id) => seen.has(id));
  };
}

/** Messages in the topic not yet committed by the group (end offset - committed offset, summed over partitions). */
export async function groupLag(kafka: KafkaClient, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let lag = 0;
    for (const end of ends) {
      const c = committed.partitions.find((p) => p.partition === end.partition);
      const position = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
      lag += Number(end.high) - position;
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

export interface KafkaPipelineOptions {
  brokers: string;
  input: string;
  labels: string;
  deadLetters: string;
  groupId: string;
  stateDir: string;
  maxInFlight?: number;
  sink?: Record<string, unknown>;
  /** More connection settings for every Kafka plugin of the pipeline (ssl, sasl, ...). */
  connection?: Record<string, unknown>;
}

/** The pipeline the specs run; short session and snapshot intervals keep crash recovery quick. */
export function kafkaPipeline(o: KafkaPipelineOptions): Record<string, unknown> {
  const connection = { brokers: [o.brokers], connectionTimeoutMs: 1_000, ...o.connection };
  return {
    name: 'kafka-spec',
    source: { use: 'kafka', with: { ...connection, topics: [o.input], groupId: o.groupId, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, commitIntervalMs: 200 } },
    stages: [
      { use: 'decode', with: { preset: 'mnist' } },
      { use: 'pixels-embed', with: { projection: 'none' } },
    ],
    sink: o.sink ?? { use: 'kafka-labels', with: { ...connection, topic: o.labels, batchSize: 64, maxWaitMs: 20 } },
    deadLetter: { use: 'kafka-dead-letter', with: { ...connection, topic: o.deadLetters } },
    // pixels-embed snapshots, so offsets are committed after each snapshot: take one every second.
    state: { dir: join(o.stateDir, 'state'), snapshotIntervalMs: 1_000 },
    runtime: { maxInFlight: o.maxInFlight ?? 128, logLevel: 'warn', progress: 'off', drainTimeoutMs: 20_000 },
  };
}

/** Runs `temi-stream run <pipelineFile>` as its own process (so it can be SIGKILLed), with the brokers in KAFKA_BROKERS. */
export function startPipelineProcess(pipelineFile: string, brokers: string) {
  const child: ChildProcess = spawn(process.execPath, [resolve('bin/temi-stream.js'), 'run', pipelineFile], { env: { ...process.env, KAFKA_BROKERS: brokers }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, exited, err: () => stderr };
}
