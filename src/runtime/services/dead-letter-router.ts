import type { DeadLetter } from '../contracts/record.ts';
import type { Clock, DeadLetters, Logger, Metrics } from '../contracts/services.ts';
import type { SinkInstance } from '../contracts/plugin.ts';

/**
 * Writes dead letters through the pipeline's dead-letter sink and only then acks the record, so a
 * record is never both lost and acknowledged. Letters are serialised through one queue to keep
 * the dead-letter file in arrival order.
 */
export class DeadLetterRouter implements DeadLetters {
  private sent = 0;
  private readonly sentBy = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: SinkInstance,
    private readonly clock: Clock,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.counter = metrics.counter('temi_records_dead_lettered_total', 'Records sent to dead letters', ['stage', 'code']);
  }

  private readonly counter;

  get count(): number {
    return this.sent;
  }

  /** Letters written for one instance (a source's unreadable inputs count as records it took in). */
  countFrom(stage: string): number {
    return this.sentBy.get(stage) ?? 0;
  }

  send(letter: Omit<DeadLetter, 'at'>): Promise<void> {
    const full: DeadLetter = { ...letter, at: this.clock.now() };
    const written = this.queue.then(async () => {
      await this.sink.write([letterAsRecord(full)]);
      this.sent++;
      this.sentBy.set(letter.stage, (this.sentBy.get(letter.stage) ?? 0) + 1);
      this.counter.inc({ stage: letter.stage, code: letter.code });
      this.logger.warn('record dead-lettered', { stage: letter.stage, code: letter.code, key: letter.record.key, reason: letter.reason });
      letter.record.ack.ack();
    });
    this.queue = written.catch(() => undefined);
    return written;
  }
}

/** The dead-letter sink receives the failing record with the letter attached to its payload. */
function letterAsRecord(letter: DeadLetter) {
  return { ...letter.record, payload: { ...letter.record.payload, deadLetter: { stage: letter.stage, code: letter.code, reason: letter.reason, at: letter.at } } };
}
