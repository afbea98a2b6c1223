/** What the benches' synthetic sources share: a finite source of `count` records, as the pipeline's flow control lets them out. */
import { Observable } from 'rxjs';
import type { SourceInstance } from '../src/runtime/contracts/plugin.ts';
import type { StreamRecord } from '../src/runtime/contracts/record.ts';

export interface CountedSourceOptions<T> {
  readonly count: number;
  /** Let the downstream stages and timers run (setImmediate) after every this many records. */
  readonly yieldEvery: number;
  /** Made once per open, before the first record (e.g. the images the records cycle through); without it the first record leaves at once. */
  readonly prepare?: () => Promise<T>;
  /** Record i. */
  readonly record: (i: number, prepared: T) => StreamRecord;
  /** Called after record i went downstream. */
  readonly afterEach?: (i: number) => void;
}

/**
 * A source instance emitting records 0..count-1 in order, each after `flow` has room (it waits
 * while the pipeline is paused); close() stops it after the record in hand and completes.
 */
export function countedSource<T>(options: CountedSourceOptions<T>): SourceInstance {
  const { count, yieldEvery, prepare, record, afterEach } = options;
  let closed = false;
  return {
    expectedCount: count,
    close() {
      closed = true;
    },
    open: (flow) =>
      new Observable<StreamRecord>((subscriber) => {
        (async () => {
          const prepared = prepare ? await prepare() : (undefined as T);
          for (let i = 0; i < count && !closed; i++) {
            if (flow.paused) await flow.whenReady();
            subscriber.next(record(i, prepared));
            afterEach?.(i);
            if (i % yieldEvery === yieldEvery - 1) await new Promise((r) => setImmediate(r));
          }
        })().then(() => subscriber.complete(), (error) => subscriber.error(error));
      }),
  };
}
