import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface BatchOptions {
  readonly maxSize: number;
  /** A partial batch is emitted this long after its first item arrived. */
  readonly maxWaitMs: number;
  readonly scheduler?: SchedulerLike;
}

/**
 * Groups items into arrays of at most `maxSize`, emitting a partial batch `maxWaitMs` after its
 * first item so a quiet stream is never held back. Unlike bufferTime, the timer starts with the
 * batch (not on a fixed cadence) and no empty batches are emitted. Order is preserved; the pending
 * batch is flushed when the source completes.
 */
export function batchRecords<T>({ maxSize, maxWaitMs, scheduler = asyncScheduler }: BatchOptions): OperatorFunction<T, T[]> {
  if (!(maxSize >= 1)) throw new RangeError(`batch maxSize must be >= 1, got ${maxSize}`);
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let timer: Subscription | undefined;

      const flush = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (batch.length === 0) return;
        const out = batch;
        batch = [];
        subscriber.next(out);
      };

      const subscription = source.subscribe({
        next(item) {
          batch.push(item);
          if (batch.length >= maxSize) flush();
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
        subscription.unsubscribe();
      };
    });
}
