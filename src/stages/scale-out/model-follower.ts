/**
 * Reads the models topic from the beginning and hands every version published under one key to
 * `onVersion`. It uses a consumer group of its own (a fresh id per process, nothing committed):
 * each process must see every version, not a share of the partitions as members of one group do.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { type SerializedPublishedModel, type Logger, reasonOf, TemiError } from '../../runtime/contracts/index.ts';
import type { KafkaClient } from '../kafka/kafka-connection.ts';
import { MODEL_MESSAGE_MAX_BYTES } from './models-topic.ts';

export interface ModelFollowerOptions {
  readonly topic: string;
  readonly modelKey: string;
  readonly groupPrefix: string;
}

/** A version as read from a message; throws TS_ERR_MODEL_MESSAGE for anything else. */
export function parseModelMessage(value: Buffer | null, where: string): SerializedPublishedModel {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value?.toString('utf8') ?? '');
  } catch (error) {
    throw new TemiError('TS_ERR_MODEL_MESSAGE', `value is not JSON: ${reasonOf(error)}`, { where });
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new TemiError('TS_ERR_MODEL_MESSAGE', `expected a published model {version >= 1, trainer, model, ...}, found version ${JSON.stringify(version)}`, { where });
  }
  return parsed as SerializedPublishedModel;
}

export class ModelFollower {
  private readonly consumer: Consumer;
  /** Next offset to read per partition, as far as this follower got. */
  private readonly positions = new Map<number, bigint>();
  private progress: (() => void) | undefined;

  constructor(
    kafka: KafkaClient,
    private readonly options: ModelFollowerOptions,
    private readonly onVersion: (serialized: SerializedPublishedModel, where: string) => void,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: `${options.groupPrefix}-${randomUUID()}`,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: MODEL_MESSAGE_MAX_BYTES,
      maxBytes: MODEL_MESSAGE_MAX_BYTES,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 500,
    });
  }

  /** Starts following in the background; `caughtUp` says when the versions already there were handed over. */
  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const where = `${this.options.topic}/${partition}@${message.offset}`;
        if (message.key?.toString('utf8') === this.options.modelKey && message.value) {
          try {
            this.onVersion(parseModelMessage(message.value, where), where);
          } catch (error) {
            // A bad version is skipped, not fatal: the process keeps serving the model it has.
            this.logger.error('model message skipped', { where, reason: reasonOf(error) });
          }
        }
        this.positions.set(partition, BigInt(message.offset) + 1n);
        this.progress?.();
      },
    });
  }

  /** Resolves when this follower has read up to `ends` (partition -> end offset), or after `timeoutMs`. */
  async caughtUp(ends: ReadonlyMap<number, bigint>, timeoutMs: number): Promise<boolean> {
    const done = () => [...ends].every(([p, end]) => (this.positions.get(p) ?? 0n) >= end);
    if (done()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.progress = undefined;
        resolve(false);
      }, timeoutMs);
      this.progress = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.progress = undefined;
        resolve(true);
      };
    });
  }

  stop(): Promise<void> {
    this.progress = undefined;
    return this.consumer.disconnect();
  }
}

/** End offsets of the topic's partitions now: what "caught up" means for a follower started now. */
export async function topicEnds(kafka: KafkaClient, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ends = new Map<number, bigint>();
    // low == high: nothing to read (empty, or everything deleted); the follower need not wait for it.
    for (const o of offsets) if (BigInt(o.high) > BigInt(o.low)) ends.set(o.partition, BigInt(o.high));
    return ends;
  } finally {
    await admin.disconnect();
  }
}
