import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Like mergeMap with a concurrency limit, but results leave in the order their inputs arrived:
 * up to `concurrency` asynchronous calls of `work` run at once (sharp decodes on libuv's thread
 * pool), and a result that finishes early waits for its predecessors. `work` may also answer
 * synchronously (the decode stage's fast path does, for most images of a stream of thumbnails):
 * such a result costs no promise, no inner subscription and no slot, and leaves at once when
 * nothing before it is still pending. `work` must settle for every input; a throw or a rejection
 * ends the stream with that error.
 */
export function orderedConcurrentMap<T, R>(concurrency: number, work: (item: T) => R | Promise<R>): OperatorFunction<T, R> {
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be >= 1, got ${concurrency}`);
  return (source) =>
    new Observable<R>((subscriber) => {
      // Results in arrival order; the head leaves as soon as it is done.
      const pending: Array<Slot<R>> = [];
      // Inputs that arrived while `concurrency` calls were running, in order.
      const waiting: Array<{ item: T; slot: Slot<R> }> = [];
      let running = 0;
      let sourceDone = false;

      const release = () => {
        while (pending.length > 0 && pending[0].done) subscriber.next(pending.shift()!.value as R);
        if (sourceDone && pending.length === 0) subscriber.complete();
      };
      const start = (item: T, slot: Slot<R>) => {
        let result: R | Promise<R>;
        try {
          result = work(item);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        if (!isPromise(result)) {
          slot.done = true;
          slot.value = result;
          return;
        }
        running++;
        result.then(
          (value) => {
            running--;
            slot.done = true;
            slot.value = value;
            while (running < concurrency && waiting.length > 0) {
              const next = waiting.shift()!;
              start(next.item, next.slot);
            }
            release();
          },
          (error: unknown) => subscriber.error(error),
        );
      };

      const subscription = source.subscribe({
        next(item) {
          const slot: Slot<R> = { done: false, value: undefined };
          pending.push(slot);
          if (running < concurrency && waiting.length === 0) start(item, slot);
          else waiting.push({ item, slot });
          release();
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          sourceDone = true;
          release();
        },
      });
      return () => subscription.unsubscribe();
    });
}

interface Slot<R> {
  done: boolean;
  value: R | undefined;
}

function isPromise<R>(value: R | Promise<R>): value is Promise<R> {
  return typeof (value as Promise<R> | undefined)?.then === 'function';
}
