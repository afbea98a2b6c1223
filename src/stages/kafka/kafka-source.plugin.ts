import { Observable, type Subscriber } from 'rxjs';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { definePlugin, type StreamRecord, services, type FlowControl, errorCode, reasonOf, TemiError, s } from '../../runtime/contracts/index.ts';
import { CommitLedger, type TopicPartitionOffset } from './commit-ledger.ts';
import { createKafkaClient, kafkaConnectionShape } from './kafka-connection.ts';
import { messageAddress, messageHeaders, parseImageMessage } from './image-message.ts';
import { subscribeError } from './subscribe-error.ts';

export const kafkaSourceConfigSchema = s.object({
  ...kafkaConnectionShape,
  topics: s.array(s.string({ minLength: 1 }), { minItems: 1, description: 'Topics to consume images from.', examples: [['images']] }),
  groupId: s.string({ minLength: 1, description: 'Consumer group: processes with the same group share the partitions; committed offsets belong to it.' }),
  fromBeginning: s.boolean({ default: true, description: 'Where a group without committed offsets starts: the earliest message (true) or only new ones (false).' }),
  format: s.enum(['auto', 'raw', 'envelope'] as const, {
    default: 'auto',
    description: 'Message value: "raw" image bytes (key = image id), "envelope" JSON {id, image (base64), label?, headers?}, or "auto" (a value starting with "{" is an envelope).',
  }),
  labelHeader: s.string({ minLength: 1, default: 'label', description: 'Header that carries the ground-truth class (a non-negative integer), if any.' }),
  sessionTimeoutMs: s.integer({ min: 1_000, default: 30_000, description: 'Group session timeout: a member silent this long loses its partitions.' }),
  heartbeatIntervalMs: s.integer({ min: 100, default: 3_000, description: 'Heartbeat interval; heartbeats also go out between records and while waiting for in-flight room.' }),
  maxBytesPerPartition: s.integer({ min: 1_024, default: 1_048_576, description: 'Largest fetch per partition; must exceed the largest message.' }),
  fetchMaxWaitMs: s.integer({ min: 10, default: 500, description: 'Longest the broker holds a fetch open when there is nothing new; also bounds how long a shutdown waits for the fetch in progress.' }),
  commitIntervalMs: s.integer({ min: 10, default: 1_000, description: 'How often acknowledged offsets are committed (also on rebalance and on shutdown) in a pipeline without stateful stages; with them, offsets are committed after each durable snapshot (state.snapshotIntervalMs).' }),
});

export const kafkaSourcePlugin = definePlugin({
  name: 'kafka',
  kind: 'source',
  description:
    'Consumes images from Kafka topics in a consumer group: raw JPEG/PNG/WebP values keyed by image id, or JSON envelopes. Pauses the consumer when the in-flight bound is reached, commits only acknowledged offsets (at-least-once), dead-letters empty or malformed messages.',
  configSchema: kafkaSourceConfigSchema,
  deps: { pipeline: services.pipeline, records: services.records, deadLetters: services.deadLetters, logger: services.logger, metrics: services.metrics },
  create({ config, deps, instanceName }) {
    const logger = deps.logger.child({ stage: instanceName });
    const kafka = createKafkaClient(config, { baseDir: deps.pipeline.baseDir, logger, where: instanceName });
    const consumer: Consumer = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxWaitTimeInMs: config.fetchMaxWaitMs,
      // A group restarted after a crash waits for its dead members' sessions; nothing else delays it.
      rebalanceTimeout: Math.max(config.sessionTimeoutMs, 10_000),
    });
    const lagGauge = deps.metrics.gauge('temi_kafka_source_lag', 'Messages behind the partition end at the start of the last batch', ['topic', 'partition']);
    const ledger = new CommitLedger();
    const topicList = config.topics.map((topic) => ({ topic }));
    let running = false;
    let closed = false;
    let subscriber: Subscriber<StreamRecord> | undefined;
    let commitTimer: NodeJS.Timeout | undefined;
    let commits: Promise<void> = Promise.resolve();
    let unlistenFlow: (() => void) | undefined;

    /**
     * In a stateful pipeline (stages that snapshot), offsets are committed only through
     * commitCheckpoint, once the snapshot that covers them is durable: after a crash the restored
     * state has seen everything the group will not read again. Otherwise they are committed on an
     * interval, on rebalance and on shutdown, as soon as records are acknowledged.
     */
    let stateful = false;

    /** Commits positions; serialised so positions only go forward. */
    const commit = (why: string, positions: () => TopicPartitionOffset[]): Promise<void> => {
      commits = commits.then(async () => {
        if (!running) return;
        const due = positions();
        if (due.length === 0) return;
        try {
          await consumer.commitOffsets([...due]);
          ledger.committed(due);
          logger.debug('offsets committed', { why, positions: due.map((d) => `${d.topic}/${d.partition}@${d.offset}`).join(',') });
        } catch (error) {
          // Not fatal: the next commit carries the same (or later) positions; at worst records are re-read.
          logger.warn('offset commit failed; will retry', { why, reason: reasonOf(error) });
        }
      });
      return commits;
    };
    const commitAcknowledged = (why: string): Promise<void> => (stateful ? commits : commit(why, () => ledger.due()));

    let currentFlow: FlowControl | undefined;
    /** Fetch nothing while the in-flight bound is reached or after close; re-applied after every (re)join. */
    const applyPause = () => {
      if (!running) return;
      try {
        if (closed || currentFlow?.paused) consumer.pause(topicList);
        else consumer.resume(topicList);
      } catch (error) {
        logger.warn('could not pause/resume the consumer', { reason: reasonOf(error) });
      }
    };

    /** Ends the stream with an error; nothing more is emitted. */
    const fail = (error: TemiError) => {
      closed = true;
      subscriber?.error(error);
    };

    /** Waits for in-flight room without letting the group session lapse. */
    const waitForRoom = async (flow: FlowControl, heartbeat: () => Promise<void>) => {
      // The limiter pauses the moment the bound is reached, so not paused means there is room.
      if (!flow.paused) return;
      let ready = false;
      const whenReady = flow.whenReady().then(() => {
        ready = true;
      });
      while (!ready && !closed) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([whenReady, new Promise<void>((r) => (timer = setTimeout(r, config.heartbeatIntervalMs)))]);
        clearTimeout(timer);
        if (!ready && !closed) await heartbeat();
      }
    };

    const eachBatch = async (flow: FlowControl, { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      const { topic, partition } = batch;
      lagGauge.set(Number(batch.offsetLagLow()), { topic, partition: String(partition) });
      for (const message of batch.messages) {
        if (closed || !isRunning() || isStale()) return;
        await waitForRoom(flow, heartbeat);
        if (closed) return;
        const view = { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp };
        const origin = { source: instanceName, topic, partition, offset: message.offset };
        const onAck = ledger.read(topic, partition, message.offset);
        try {
          const image = parseImageMessage(view, config);
          subscriber?.next(
            deps.records.create({ key: image.key, payload: { bytes: image.bytes }, origin, label: image.label, headers: image.headers, producedAt: image.producedAt, onAck }),
          );
        } catch (error) {
          // Bad input, not a broken source: the letter keeps the original bytes, and the offset
          // advances once the letter is written (the router acks the record after the write).
          const record = deps.records.create({
            key: message.key && message.key.length > 0 ? message.key.toString('utf8') : messageAddress(view),
            payload: message.value ? { bytes: new Uint8Array(message.value.buffer, message.value.byteOffset, message.value.length) } : {},
            origin,
            headers: messageHeaders(view),
            onAck,
          });
          try {
            await deps.deadLetters.send({ record, stage: instanceName, code: errorCode(error), reason: reasonOf(error) });
          } catch (sendError) {
            // Neither processed nor dead-lettered: the run must stop here, before committing past it.
            fail(new TemiError('TS_ERR_KAFKA_DEAD_LETTER', `could not dead-letter ${messageAddress(view)}: ${reasonOf(sendError)}`, { where: instanceName, cause: sendError }));
            return;
          }
        }
        resolveOffset(message.offset);
        await heartbeat();
      }
    };

    return {
      async start() {
        await consumer.connect();
        for (const [i, topic] of config.topics.entries()) {
          await consumer.subscribe({ topic, fromBeginning: config.fromBeginning }).catch((error: unknown) => {
            throw subscribeError(error, topic, `${instanceName}.topics[${i}]`);
          });
        }
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          // Also after kafkajs restarted a crashed consumer (a broker gone longer than the retries).
          running = true;
          applyPause();
          logger.info('joined consumer group', { groupId: config.groupId, assignment: e.payload.memberAssignment });
        });
        consumer.on(consumer.events.REBALANCING, () => {
          // Partitions may move to another member: hand over what is acknowledged so far.
          void commitAcknowledged('rebalance');
        });
        consumer.on(consumer.events.STOP, () => {
          // kafkajs stops the runner before it restarts a crashed consumer; commits wait for the rejoin.
          running = false;
        });
        consumer.on(consumer.events.CRASH, (e) => {
          const { error, restart } = e.payload;
          if (restart) {
            logger.warn('kafka consumer failed and restarts', { reason: reasonOf(error) });
            return;
          }
          running = false;
          fail(new TemiError('TS_ERR_KAFKA_CONSUMER', `the Kafka consumer stopped: ${reasonOf(error)}`, { where: instanceName, cause: error }));
        });
        logger.info('kafka source connected', { topics: config.topics, groupId: config.groupId, format: config.format });
      },
      open(flow) {
        return new Observable<StreamRecord>((sub) => {
          subscriber = sub;
          if (closed) {
            sub.complete();
            return;
          }
          currentFlow = flow;
          stateful = deps.pipeline.stateful;
          unlistenFlow = flow.onChange(applyPause);
          if (!stateful) commitTimer = setInterval(() => void commitAcknowledged('interval'), config.commitIntervalMs);
          consumer
            .run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => eachBatch(flow, payload) })
            .catch((error: unknown) => fail(new TemiError('TS_ERR_KAFKA_CONSUMER', `the Kafka consumer could not run: ${reasonOf(error)}`, { where: instanceName, cause: error })));
          return () => {
            unlistenFlow?.();
          };
        });
      },
      close() {
        if (closed) return;
        closed = true;
        // Fetch nothing more; keep the group membership so acknowledged offsets can still be committed in stop().
        applyPause();
        subscriber?.complete();
      },
      checkpoint() {
        return ledger.due();
      },
      commitCheckpoint(checkpoint) {
        return commit('snapshot', () => checkpoint as TopicPartitionOffset[]);
      },
      snapshot() {
        return { committed: ledger.committedPositions() };
      },
      restore(state) {
        // Kafka's committed offsets stay the source of truth; the snapshot says what this process had committed.
        const committed = (state as { committed?: unknown } | undefined)?.committed;
        if (committed) logger.info('snapshot taken with these committed offsets (the group resumes from Kafka\'s own)', { committed });
      },
      async stop() {
        closed = true;
        clearInterval(commitTimer);
        unlistenFlow?.();
        // In a stateful pipeline the final snapshot's checkpoint has already been committed.
        await commitAcknowledged('shutdown');
        running = false;
        logger.info('kafka source stopped', { committed: ledger.committedPositions(), unacknowledged: ledger.outstanding });
        await consumer.disconnect();
      },
    };
  },
});
