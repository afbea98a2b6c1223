import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { batchRecords } from './batch-records.ts';

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

  it('rejects a batch size below 1', () => {
    expect(() => batchRecords({ maxSize: 0, maxWaitMs: 1 })).toThrow(/maxSize must be >= 1/);
  });
});
