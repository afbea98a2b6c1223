import { Observable } from 'rxjs';
import { type StreamRecord, type DeadLetters, type FlowControl, type RecordFactory } from '../../runtime/contracts/index.ts';
import type { SourcePlan } from './source-plan.ts';

/** Lets `close()` interrupt a source that is waiting for room in the in-flight bound. */
export class CloseSignal {
  private closedFlag = false;
  private readonly listeners = new Set<() => void>();

  get closed(): boolean {
    return this.closedFlag;
  }

  close(): void {
    this.closedFlag = true;
    for (const listener of this.listeners) listener();
    this.listeners.clear();
  }

  /**
   * Resolves with what `wait` resolves to, or with undefined as soon as the signal closes. The
   * close listener is removed once `wait` settles, so racing once per record does not pile up.
   */
  race<T>(wait: Promise<T>): Promise<T | undefined> {
    if (this.closedFlag) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const onClose = () => resolve(undefined);
      this.listeners.add(onClose);
      wait.then(
        (value) => {
          this.listeners.delete(onClose);
          resolve(value);
        },
        (error: unknown) => {
          this.listeners.delete(onClose);
          reject(error);
        },
      );
    });
  }
}

export interface EmitContext {
  readonly flow: FlowControl;
  readonly records: RecordFactory;
  readonly deadLetters: DeadLetters;
  readonly stage: string;
  readonly closing: CloseSignal;
}

/** How often a source that never has to wait yields to the event loop (timers, metrics, heartbeats). */
const YIELD_EVERY = 256;

/**
 * Emits a plan's items one by one: waits for room in the in-flight bound before each, stops
 * promptly on close (also while waiting), and dead-letters inputs that could not be read. The
 * observable completes when the plan is exhausted or closed.
 */
export function emitPlan(plan: SourcePlan, context: EmitContext): Observable<StreamRecord> {
  const { flow, records, deadLetters, stage, closing } = context;
  return new Observable<StreamRecord>((subscriber) => {
    (async () => {
      let sinceYield = 0;
      for await (const item of plan.items()) {
        if (closing.closed) break;
        await closing.race(flow.whenReady());
        if (closing.closed) break;
        if (item.kind === 'record') {
          subscriber.next(records.create(item.input));
        } else {
          const record = records.create({ key: item.key, payload: {}, origin: item.origin });
          await deadLetters.send({ record, stage, code: item.error.code, reason: item.error.reason });
        }
        if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    })().then(
      () => subscriber.complete(),
      (error) => subscriber.error(error),
    );
    return () => closing.close();
  });
}
