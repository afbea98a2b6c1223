import { Observable, asyncScheduler, defer, tap, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { FlowControl } from '../contracts/services.ts';
import { orderedConcurrentMap } from './ordered-concurrent-map.ts';

export interface BatchOptions {
  readonly maxSize: number;
  /** A partial batch is emitted this long after its first item arrived. */
  readonly maxWaitMs: number;
  readonly scheduler?: SchedulerLike;
  /**
   * The pipeline's in-flight bound. While it holds the source paused no new record can arrive
   * until records downstream are acknowledged, so a partial batch is let go at once (at the end
   * of the current task, so records arriving together still go together) instead of after
   * maxWaitMs: waiting could not fill it and would only hold back the acks that resume the source.
   */
  readonly flow?: Pick<FlowControl, 'paused' | 'onChange'>;
  /**
   * What takes the batches, when it says whether it is busy (mapBatches sets this): it has no
   * room to start another batch. While it is, a partial batch is not let go early: it could only
   * queue behind the batches being worked on, whose end may well resume the source and fill it (a
   * sink's write acknowledges its records). It is let go when the consumer has room again, if the
   * source is still paused then.
   */
  readonly consumer?: BatchConsumer;
}

export interface BatchConsumer {
  readonly busy: boolean;
  /** `listener` runs each time the consumer finishes a batch and has room for another. */
  onRoom(listener: () => void): () => void;
}

/**
 * Groups items into arrays of at most `maxSize`, emitting a partial batch `maxWaitMs` after its
 * first item so a quiet stream is never held back. Unlike bufferTime, the timer starts with the
 * batch (not on a fixed cadence) and no empty batches are emitted. Order is preserved; the pending
 * batch is flushed when the source completes, and early while `flow` holds the source paused.
 */
export function batchRecords<T>({ maxSize, maxWaitMs, scheduler = asyncScheduler, flow, consumer }: BatchOptions): OperatorFunction<T, T[]> {
  if (!(maxSize >= 1)) throw new RangeError(`batch maxSize must be >= 1, got ${maxSize}`);
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let timer: Subscription | undefined;
      let flushingSoon = false;

      const flush = () => {
        timer?.unsubscribe();
        timer = undefined;
        flushingSoon = false;
        if (batch.length === 0) return;
        const out = batch;
        batch = [];
        subscriber.next(out);
      };

      const flushSoon = () => {
        if (flushingSoon || batch.length === 0) return;
        timer?.unsubscribe();
        timer = scheduler.schedule(flush, 0);
        flushingSoon = true;
      };
      const flushIfStalled = () => {
        if (flow?.paused && !consumer?.busy) flushSoon();
      };
      const stopWatching = flow?.onChange(flushIfStalled);
      const stopWaiting = consumer?.onRoom(flushIfStalled);

      const subscription = source.subscribe({
        next(item) {
          batch.push(item);
          if (batch.length >= maxSize) flush();
          else if (flow?.paused && !consumer?.busy) flushSoon();
          else if (!timer) timer = scheduler.schedule(flush, maxWaitMs);
        },
        error(err) {
          timer?.unsubscribe();
          subscriber.error(err);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });

      return () => {
        timer?.unsubscribe();
        stopWatching?.();
        stopWaiting?.();
        subscription.unsubscribe();
      };
    });
}

export interface MapBatchesOptions extends Omit<BatchOptions, 'consumer'> {
  /**
   * Batches `work` may have at once (default 1); results still leave in order. More than one pays
   * where `work` hands a batch to something that queues it, e.g. a model on its own thread, which
   * then starts the next batch the moment one ends instead of waiting on this thread's round trip.
   */
  readonly concurrency?: number;
}

/**
 * batchRecords, then `work` on up to `concurrency` batches at a time (one by default), results in
 * order: a stage's or a sink's batched work. The batcher knows when `work` has no room for another
 * batch, so under the in-flight bound it lets a partial batch go early only when one could start
 * at once (see BatchOptions.consumer).
 */
export function mapBatches<T, R>(options: MapBatchesOptions, work: (batch: T[]) => Promise<R>): OperatorFunction<T, R> {
  const { concurrency = 1, ...batching } = options;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`mapBatches concurrency must be an integer >= 1, got ${concurrency}`);
  return (source) =>
    defer(() => {
      const consumer = new BatchQueue(concurrency);
      const run = async (batch: T[]): Promise<R> => {
        try {
          return await work(batch);
        } finally {
          consumer.done();
        }
      };
      return source.pipe(
        batchRecords<T>({ ...batching, consumer }),
        tap(() => consumer.given++),
        orderedConcurrentMap(concurrency, run),
      );
    });
}

/** The batches given to the work and not yet worked off; busy while none more could start. */
class BatchQueue implements BatchConsumer {
  given = 0;
  private listeners = new Set<() => void>();

  constructor(private readonly concurrency: number) {}

  get busy(): boolean {
    return this.given >= this.concurrency;
  }

  onRoom(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  done(): void {
    this.given--;
    if (!this.busy) for (const listener of this.listeners) listener();
  }
}
