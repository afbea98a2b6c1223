import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
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
}

/**
 * Groups items into arrays of at most `maxSize`, emitting a partial batch `maxWaitMs` after its
 * first item so a quiet stream is never held back. Unlike bufferTime, the timer starts with the
 * batch (not on a fixed cadence) and no empty batches are emitted. Order is preserved; the pending
 * batch is flushed when the source completes, and early while `flow` holds the source paused.
 */
export function batchRecords<T>({ maxSize, maxWaitMs, scheduler = asyncScheduler, flow }: BatchOptions): OperatorFunction<T, T[]> {
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
      const stopWatching = flow?.onChange((paused) => {
        if (paused) flushSoon();
      });

      const subscription = source.subscribe({
        next(item) {
          batch.push(item);
          if (batch.length >= maxSize) flush();
          else if (flow?.paused) flushSoon();
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
        subscription.unsubscribe();
      };
    });
}
