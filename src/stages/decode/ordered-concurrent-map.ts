import { Observable, from, map, mergeMap, type OperatorFunction } from 'rxjs';

/**
 * Like mergeMap with a concurrency limit, but results leave in the order their inputs arrived:
 * up to `concurrency` calls of `work` run at once (sharp decodes on libuv's thread pool), and a
 * result that finishes early waits for its predecessors. `work` must settle for every input.
 */
export function orderedConcurrentMap<T, R>(concurrency: number, work: (item: T) => Promise<R>): OperatorFunction<T, R> {
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be >= 1, got ${concurrency}`);
  return (source) =>
    source.pipe(
      mergeMap((item, index) => from(work(item)).pipe(map((result) => ({ index, result }))), concurrency),
      inIndexOrder<R>(),
    );
}

function inIndexOrder<R>(): OperatorFunction<{ index: number; result: R }, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const early = new Map<number, R>();
      let next = 0;
      return source.subscribe({
        next({ index, result }) {
          early.set(index, result);
          while (early.has(next)) {
            const value = early.get(next) as R;
            early.delete(next);
            next++;
            subscriber.next(value);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
