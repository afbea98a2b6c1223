import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { batchRecords, mapBatches } from './batch-records.ts';

/** The in-flight bound as a stage sees it, paused and resumed by hand. */
class ManualFlow {
  paused = false;
  private listeners = new Set<(paused: boolean) => void>();
  onChange(listener: (paused: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(paused: boolean): void {
    this.paused = paused;
    for (const listener of this.listeners) listener(paused);
  }
  get watchers(): number {
    return this.listeners.size;
  }
}

/** A batch consumer made busy and idle by hand. */
class ManualConsumer {
  busy = false;
  private listeners = new Set<() => void>();
  onRoom(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(busy: boolean): void {
    this.busy = busy;
    if (!busy) for (const listener of this.listeners) listener();
  }
}

function flowAndConsumer() {
  return { flow: new ManualFlow(), consumer: new ManualConsumer() };
}

/** The consumer takes a batch, and the source reaches the in-flight bound. */
function pause(flow: ManualFlow, consumer: ManualConsumer): void {
  consumer.set(true);
  flow.set(true);
}

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('batchRecords', () => {
  it('emits a full batch as soon as maxSize items arrived', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('abc--d|');
      expectObservable(source.pipe(batchRecords({ maxSize: 3, maxWaitMs: 100 }))).toBe('--x---(y|)', { x: ['a', 'b', 'c'], y: ['d'] });
    });
  });

  it('emits a partial batch maxWaitMs after its first item, not on a fixed cadence', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 3ms b 10ms c 20ms |');
      // a at 0, b at 4 -> batch [a,b] at 5; c at 15 -> [c] at 20; complete at 36.
      expectObservable(source.pipe(batchRecords({ maxSize: 10, maxWaitMs: 5 }))).toBe('5ms x 14ms y 15ms |', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('never emits empty batches while the source is quiet', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('100ms |').pipe(batchRecords({ maxSize: 2, maxWaitMs: 5 }))).toBe('100ms |');
    });
  });

  it('flushes the pending batch when the source completes and keeps order', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abcde|').pipe(batchRecords({ maxSize: 2, maxWaitMs: 50 }))).toBe('-x-y-(z|)', { x: ['a', 'b'], y: ['c', 'd'], z: ['e'] });
    });
  });

  it('passes errors through and drops the pending timer', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#').pipe(batchRecords({ maxSize: 5, maxWaitMs: 10 }))).toBe('--#');
    });
  });

  it('while the source is held paused, lets a partial batch go at once, records that arrive together still together', () => {
    const flow = new ManualFlow();
    flow.set(true);
    scheduler().run(({ cold, expectObservable }) => {
      // With maxWaitMs 100 these would wait until frame 100; no record can come before an ack.
      const source = cold('(ab) 4ms c 4ms |'); // a and b at 0 (the group spans 4 frames), c at 8
      expectObservable(source.pipe(batchRecords({ maxSize: 10, maxWaitMs: 100, flow }))).toBe('x 7ms y 4ms |', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('lets the pending batch go when the source is paused, and waits maxWaitMs again once it resumes', () => {
    const flow = new ManualFlow();
    scheduler().run(({ cold, expectObservable }) => {
      cold('---p 5ms r').subscribe((v) => flow.set(v === 'p'));
      const source = cold('a 19ms b 49ms |');
      // a at 0, paused at 3 -> [a] at 3; resumed at 9; b at 20 -> [b] at 20 + 30.
      expectObservable(source.pipe(batchRecords({ maxSize: 10, maxWaitMs: 30, flow }))).toBe('---x 46ms y 19ms |', { x: ['a'], y: ['b'] });
    });
    expect(flow.watchers).toBe(0);
  });

  it('while paused and its consumer busy, holds a partial batch until the consumer is done, then lets it go', () => {
    const { flow, consumer } = flowAndConsumer();
    scheduler().run(({ cold, expectObservable }) => {
      cold('--p').subscribe(() => pause(flow, consumer));
      // The consumer finishes at 10 with the source still paused: nothing else can fill the batch.
      cold('10ms d').subscribe(() => consumer.set(false));
      const source = cold('a 49ms |');
      expectObservable(source.pipe(batchRecords({ maxSize: 10, maxWaitMs: 30, flow, consumer }))).toBe('10ms x 39ms |', { x: ['a'] });
    });
  });

  it('while paused and its consumer busy, a batch the resumed source fills goes whole (a sink whose write resumes the source)', () => {
    const { flow, consumer } = flowAndConsumer();
    scheduler().run(({ cold, expectObservable }) => {
      cold('--p').subscribe(() => pause(flow, consumer));
      // The write ends at 10: its acks resume the source first, then the consumer is idle.
      cold('10ms d').subscribe(() => {
        flow.set(false);
        consumer.set(false);
      });
      const source = cold('a 11ms (bc) 40ms |');
      expectObservable(source.pipe(batchRecords({ maxSize: 3, maxWaitMs: 30, flow, consumer }))).toBe('12ms x 43ms |', { x: ['a', 'b', 'c'] });
    });
  });

  it('rejects a batch size below 1', () => {
    expect(() => batchRecords({ maxSize: 0, maxWaitMs: 1 })).toThrow(/maxSize must be >= 1/);
  });
});

describe('mapBatches', () => {
  it('works off one batch at a time, in order, and lets a partial batch go early only when it is idle', async () => {
    const flow = new ManualFlow();
    const sizes: number[] = [];
    const source = new Subject<number>();
    const work = async (batch: number[]) => {
      sizes.push(batch.length);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return batch;
    };
    const out: number[] = [];
    const done = new Promise<void>((resolve) => source.pipe(mapBatches({ maxSize: 4, maxWaitMs: 1000, flow }, work)).subscribe({ next: (b) => out.push(...b), complete: resolve }));
    for (const n of [1, 2, 3, 4]) source.next(n); // a full batch: the work is busy
    source.next(5);
    flow.set(true); // paused while busy: 5 waits for the work to end
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sizes).toEqual([4]);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the work ended, still paused: [5] goes
    expect(sizes).toEqual([4, 1]);
    flow.set(false);
    source.next(6);
    source.complete();
    await done;
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sizes).toEqual([4, 1, 1]);
    expect(flow.watchers).toBe(0);
  });

  it('with concurrency 2 has two batches in work at once, keeps their order, and lets a partial batch go early while one slot is free', async () => {
    const flow = new ManualFlow();
    const started: number[][] = [];
    let running = 0;
    let peak = 0;
    const source = new Subject<number>();
    // The first batch takes longest: its results must still leave first.
    const work = async (batch: number[]) => {
      started.push(batch);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, batch[0] === 1 ? 40 : 10));
      running--;
      return batch;
    };
    const out: number[] = [];
    const done = new Promise<void>((resolve) => source.pipe(mapBatches({ maxSize: 2, maxWaitMs: 1000, flow, concurrency: 2 }, work)).subscribe({ next: (b) => out.push(...b), complete: resolve }));
    for (const n of [1, 2]) source.next(n); // one batch in work, a slot free
    source.next(3);
    flow.set(true); // paused with a free slot: [3] goes at once
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(started).toEqual([[1, 2], [3]]);
    source.next(4); // both slots taken: 4 waits for one to free
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(started).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 15)); // [3] done, still paused: [4] goes
    expect(started).toEqual([[1, 2], [3], [4]]);
    flow.set(false);
    source.complete();
    await done;
    expect(out).toEqual([1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('refuses a concurrency that is not a whole number of at least 1', () => {
    expect(() => mapBatches({ maxSize: 2, maxWaitMs: 1, concurrency: 0 }, async (b: number[]) => b)).toThrow(/concurrency must be an integer >= 1, got 0/);
  });
});
