import { Observable, type Subscriber } from 'rxjs';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { type DeadLetters, type FlowControl, type Gauge, type Logger, type RecordFactory, type RecordOrigin, type StreamRecord, errorCode, reasonOf, TemiError } from '../../runtime/contracts/index.ts';
import { CommitLedger, type PartitionLedger, type TopicPartitionOffset } from './commit-ledger.ts';
import type { KafkaClient } from './kafka-connection.ts';
import { messageAddress, messageHeaders, parseImageMessage, type ImageMessage, type KafkaMessageView } from './image-message.ts';
import { subscribeError } from './subscribe-error.ts';

/** What the consumer needs from the source's config (kafka-source.plugin.ts holds the schema). */
export interface KafkaImageConsumerSettings {
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly format: 'auto' | 'raw' | 'envelope';
  readonly labelHeader: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxBytesPerPartition: number;
  readonly fetchMaxWaitMs: number;
  readonly commitIntervalMs: number;
}

export interface KafkaImageConsumerParts {
  readonly kafka: KafkaClient;
  readonly records: RecordFactory;
  readonly deadLetters: DeadLetters;
  readonly logger: Logger;
  readonly lag: Gauge;
  /** The source's instance name: records' origin, dead letters' stage, errors' where. */
  readonly instanceName: string;
}

/**
 * A consumer-group member that turns image messages into records: it pauses fetching while the
 * in-flight bound is reached (heartbeating as it waits), dead-letters messages that are not
 * images, and commits only offsets whose records are acknowledged (at-least-once). In a stateful
 * pipeline (stages that snapshot) offsets are committed only through commitCheckpoint, once the
 * snapshot that covers them is durable, so after a crash the restored state has seen everything
 * the group will not read again; otherwise on an interval, on rebalance and on shutdown.
 */
export class KafkaImageConsumer {
  private readonly consumer: Consumer;
  private readonly ledger = new CommitLedger();
  private readonly topicList: Array<{ topic: string }>;
  private readonly logger: Logger;
  /** Joined the group and not stopped: commits and pause/resume reach the broker only then. */
  private running = false;
  private closed = false;
  private stateful = false;
  private subscriber: Subscriber<StreamRecord> | undefined;
  private flow: FlowControl | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private commits: Promise<void> = Promise.resolve();
  private unlistenFlow: (() => void) | undefined;

  constructor(
    private readonly settings: KafkaImageConsumerSettings,
    private readonly parts: KafkaImageConsumerParts,
  ) {
    this.logger = parts.logger;
    this.topicList = settings.topics.map((topic) => ({ topic }));
    this.consumer = parts.kafka.consumer({
      groupId: settings.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxBytesPerPartition: settings.maxBytesPerPartition,
      maxWaitTimeInMs: settings.fetchMaxWaitMs,
      // A group restarted after a crash waits for its dead members' sessions; nothing else delays it.
      rebalanceTimeout: Math.max(settings.sessionTimeoutMs, 10_000),
    });
  }

  /** Connects, subscribes (a missing topic is a coded error naming it) and follows the group's events. */
  async connect(): Promise<void> {
    const { consumer, settings, logger } = this;
    await consumer.connect();
    for (const [i, topic] of settings.topics.entries()) {
      await consumer.subscribe({ topic, fromBeginning: settings.fromBeginning }).catch((error: unknown) => {
        throw subscribeError(error, topic, `${this.parts.instanceName}.topics[${i}]`);
      });
    }
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Also after kafkajs restarted a crashed consumer (a broker gone longer than the retries).
      this.running = true;
      this.applyPause();
      logger.info('joined consumer group', { groupId: settings.groupId, assignment: e.payload.memberAssignment });
    });
    consumer.on(consumer.events.REBALANCING, () => {
      // Partitions may move to another member: hand over what is acknowledged so far.
      void this.commitAcknowledged('rebalance');
    });
    consumer.on(consumer.events.STOP, () => {
      // kafkajs stops the runner before it restarts a crashed consumer; commits wait for the rejoin.
      this.running = false;
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      if (restart) {
        logger.warn('kafka consumer failed and restarts', { reason: reasonOf(error) });
        return;
      }
      this.running = false;
      this.fail(new TemiError('TS_ERR_KAFKA_CONSUMER', `the Kafka consumer stopped: ${reasonOf(error)}`, { where: this.parts.instanceName, cause: error }));
    });
    logger.info('kafka source connected', { topics: settings.topics, groupId: settings.groupId, format: settings.format });
  }

  /** The records, within the in-flight bound; `stateful` (read on subscription): commit only through commitCheckpoint. */
  records(flow: FlowControl, stateful: () => boolean): Observable<StreamRecord> {
    return new Observable<StreamRecord>((sub) => {
      this.subscriber = sub;
      if (this.closed) {
        sub.complete();
        return;
      }
      this.flow = flow;
      this.stateful = stateful();
      this.unlistenFlow = flow.onChange(() => this.applyPause());
      if (!stateful) this.commitTimer = setInterval(() => void this.commitAcknowledged('interval'), this.settings.commitIntervalMs);
      this.consumer
        .run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => this.eachBatch(flow, payload) })
        .catch((error: unknown) => this.fail(new TemiError('TS_ERR_KAFKA_CONSUMER', `the Kafka consumer could not run: ${reasonOf(error)}`, { where: this.parts.instanceName, cause: error })));
      return () => {
        this.unlistenFlow?.();
      };
    });
  }

  /** Stops emitting; keeps the group membership so acknowledged offsets can still be committed in stop(). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.applyPause();
    this.subscriber?.complete();
  }

  /** Acknowledged positions not yet committed, captured just before a pipeline snapshot. */
  checkpoint(): TopicPartitionOffset[] {
    return this.ledger.due();
  }

  commitCheckpoint(checkpoint: TopicPartitionOffset[]): Promise<void> {
    return this.commit('snapshot', () => checkpoint);
  }

  committedPositions(): Record<string, Record<string, string>> {
    return this.ledger.committedPositions();
  }

  /** Commits what is acknowledged (in a stateful pipeline the final snapshot's checkpoint already was), then leaves the group. */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.commitTimer);
    this.unlistenFlow?.();
    await this.commitAcknowledged('shutdown');
    this.running = false;
    this.logger.info('kafka source stopped', { committed: this.ledger.committedPositions(), unacknowledged: this.ledger.outstanding });
    await this.consumer.disconnect();
  }

  /** Commits positions; serialised so positions only go forward. */
  private commit(why: string, positions: () => TopicPartitionOffset[]): Promise<void> {
    this.commits = this.commits.then(async () => {
      if (!this.running) return;
      const due = positions();
      if (due.length === 0) return;
      try {
        await this.consumer.commitOffsets([...due]);
        this.ledger.committed(due);
        this.logger.debug('offsets committed', { why, positions: due.map((d) => `${d.topic}/${d.partition}@${d.offset}`).join(',') });
      } catch (error) {
        // Not fatal: the next commit carries the same (or later) positions; at worst records are re-read.
        this.logger.warn('offset commit failed; will retry', { why, reason: reasonOf(error) });
      }
    });
    return this.commits;
  }

  private commitAcknowledged(why: string): Promise<void> {
    return this.stateful ? this.commits : this.commit(why, () => this.ledger.due());
  }

  /** Fetch nothing while the in-flight bound is reached or after close; re-applied after every (re)join. */
  private applyPause(): void {
    if (!this.running) return;
    try {
      if (this.closed || this.flow?.paused) this.consumer.pause(this.topicList);
      else this.consumer.resume(this.topicList);
    } catch (error) {
      this.logger.warn('could not pause/resume the consumer', { reason: reasonOf(error) });
    }
  }

  /** Ends the stream with an error; nothing more is emitted. */
  private fail(error: TemiError): void {
    this.closed = true;
    this.subscriber?.error(error);
  }

  /** Waits for in-flight room without letting the group session lapse. */
  private async waitForRoom(flow: FlowControl, heartbeat: () => Promise<void>): Promise<void> {
    // The limiter pauses the moment the bound is reached, so not paused means there is room.
    if (!flow.paused) return;
    let ready = false;
    const whenReady = flow.whenReady().then(() => {
      ready = true;
    });
    while (!ready && !this.closed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([whenReady, new Promise<void>((r) => (timer = setTimeout(r, this.settings.heartbeatIntervalMs)))]);
      clearTimeout(timer);
      if (!ready && !this.closed) await heartbeat();
    }
  }

  /**
   * One fetched batch. Per message this does only what a message needs (parse, one record, the
   * ledger entry); the checks that cost kafkajs a lookup or a promise (running/stale, heartbeat,
   * resolveOffset) run once per batch and after every wait, since nothing changes between two
   * messages emitted without yielding. A message that must wait for in-flight room or for its
   * dead letter to be written yields, and the checks run again after it.
   */
  private async eachBatch(flow: FlowControl, { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    this.parts.lag.set(Number(batch.offsetLagLow()), { topic, partition: String(partition) });
    const ledger = this.ledger.partition(topic, partition);
    const context: MessageContext = { topic, partition, ledger, source: this.parts.instanceName, view: { topic, partition, offset: '', key: null, value: null, headers: undefined, timestamp: undefined } };
    let resolved: string | undefined;
    try {
      if (this.closed || !isRunning() || isStale()) return;
      for (const message of batch.messages) {
        // A stage that fails synchronously ends the stream (close) while this loop runs.
        if (this.closed) return;
        if (flow.paused) {
          await this.waitForRoom(flow, heartbeat);
          if (this.closed || !isRunning() || isStale()) return;
        }
        if (this.emitRecord(context, message)) {
          resolved = message.offset;
          continue;
        }
        // Not an image: its dead letter is written before the offset may advance.
        if (!(await this.deadLetter(context, message))) return;
        resolved = message.offset;
        if (this.closed || !isRunning() || isStale()) return;
      }
    } finally {
      if (resolved !== undefined) resolveOffset(resolved);
    }
    await heartbeat();
  }

  /** One message as a record, synchronously; false when it is not an image (the caller dead-letters it). */
  private emitRecord(context: MessageContext, message: KafkaMessage): boolean {
    const { view } = context;
    view.offset = message.offset;
    view.key = message.key;
    view.value = message.value;
    view.headers = message.headers;
    view.timestamp = message.timestamp;
    let image: ImageMessage;
    try {
      image = parseImageMessage(view, this.settings);
    } catch (error) {
      context.failure = error;
      return false;
    }
    const onAck = context.ledger.read(message.offset);
    this.subscriber?.next(this.parts.records.create({ key: image.key, payload: { bytes: image.bytes }, origin: originAt(context, message.offset), label: image.label, headers: image.headers, producedAt: image.producedAt, onAck }));
    return true;
  }

  /**
   * A message that cannot become a record: bad input, not a broken source. The letter keeps the
   * original bytes, and the offset advances once the letter is written (the router acks the
   * record after the write). False when the run must stop.
   */
  private async deadLetter(context: MessageContext, message: KafkaMessage): Promise<boolean> {
    const { records, instanceName } = this.parts;
    const view: KafkaMessageView = { topic: context.topic, partition: context.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp };
    const error = context.failure;
    context.failure = undefined;
    const record = records.create({
      key: message.key && message.key.length > 0 ? message.key.toString('utf8') : messageAddress(view),
      payload: message.value ? { bytes: new Uint8Array(message.value.buffer, message.value.byteOffset, message.value.length) } : {},
      origin: originAt(context, message.offset),
      headers: messageHeaders(view),
      onAck: context.ledger.read(message.offset),
    });
    try {
      await this.parts.deadLetters.send({ record, stage: instanceName, code: errorCode(error), reason: reasonOf(error) });
      return true;
    } catch (sendError) {
      // Neither processed nor dead-lettered: the run must stop here, before committing past it.
      this.fail(new TemiError('TS_ERR_KAFKA_DEAD_LETTER', `could not dead-letter ${messageAddress(view)}: ${reasonOf(sendError)}`, { where: instanceName, cause: sendError }));
      return false;
    }
  }
}

/** What the messages of one fetched batch share. */
interface MessageContext {
  readonly topic: string;
  readonly partition: number;
  readonly ledger: PartitionLedger;
  /** The source's instance name, records' origin.source. */
  readonly source: string;
  /** The message being parsed, one object per batch refilled per message (parseImageMessage keeps none of it). */
  readonly view: { -readonly [K in keyof KafkaMessageView]: KafkaMessageView[K] };
  /** Why the last message could not be parsed, handed from emitRecord to deadLetter. */
  failure?: unknown;
}

/** A record's origin: the message's place in the topic (a literal, not a spread: one per message). */
function originAt(context: MessageContext, offset: string): RecordOrigin {
  return { source: context.source, topic: context.topic, partition: context.partition, offset };
}
