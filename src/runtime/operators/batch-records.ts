import { Observable, asyncScheduler, concatMap, defer, finalize, from, tap, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { FlowControl } from '../contracts/services.ts';

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
   * What takes the batches, when it says whether it is busy (mapBatches sets this). While it is,
   * a partial batch is not let go early: it could only queue behind the batch being worked on,
   * whose end may well resume the source and fill it (a sink's write acknowledges its records).
   * It is let go when the consumer is done, if the source is still paused then.
   */
  readonly consumer?: BatchConsumer;
}

export interface BatchConsumer {
  readonly busy: boolean;
  /** `listener` runs each time the consumer has worked off every batch given to it. */
  onIdle(listener: () => void): () => void;
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
      const stopWaiting = consumer?.onIdle(flushIfStalled);

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

/**
 * batchRecords, then `work` on one batch at a time, in order: a stage's or a sink's batched work.
 * The batcher knows when `work` is busy, so under the in-flight bound it lets a partial batch go
 * early only when nothing else is being worked on (see BatchOptions.consumer).
 */
export function mapBatches<T, R>(options: Omit<BatchOptions, 'consumer'>, work: (batch: T[]) => Promise<R>): OperatorFunction<T, R> {
  return (source) =>
    defer(() => {
      const consumer = new BatchQueue();
      return source.pipe(
        batchRecords<T>({ ...options, consumer }),
        tap(() => consumer.given++),
        concatMap((batch) => from(work(batch)).pipe(finalize(() => consumer.done()))),
      );
    });
}

/** The batches given to concatMap and not yet worked off. */
class BatchQueue implements BatchConsumer {
  given = 0;
  private listeners = new Set<() => void>();

  get busy(): boolean {
    return this.given > 0;
  }

  onIdle(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  done(): void {
    this.given--;
    if (this.given === 0) for (const listener of this.listeners) listener();
  }
}
