import { Observable, type OperatorFunction } from 'rxjs';
import { type ModelRegistry, type StreamRecord } from '../../runtime/contracts/index.ts';

export interface HoldOptions {
  /** After this long without a model, release the held records (unassigned) and stop holding. */
  readonly timeoutMs: number;
  /** Release the held records (unassigned) and stop holding once this many are held. */
  readonly maxHeld?: number;
  /**
   * Called once when this many records are held and still no model exists; expected to publish
   * one (e.g. a k-means bootstrap), which releases them. Absent: hold until a model or the timeout.
   */
  readonly bootstrap?: { readonly records: number; readonly publish: (held: readonly StreamRecord[]) => Promise<boolean> };
  /**
   * A stop: with a bootstrap, the held records are released (unassigned, unless a fit finishing
   * just then publishes) once the bootstrap has given up, not when the input ends: a source
   * paused by the in-flight bound, which the held records fill, would otherwise never end.
   * `publish` is expected to give up at once on a stop.
   */
  readonly stopping?: AbortSignal;
}

/**
 * Holds records (in order) until the registry has a model, the source completes (after a round
 * already training, if any, ends), or the timeout passes; then releases them and passes
 * everything through. Nothing is dropped or reordered, and memory stays within the runtime's
 * in-flight bound because held records are not acknowledged.
 */
export function holdUntilFirstModel(
  options: HoldOptions,
  registry: Pick<ModelRegistry, 'current' | 'onPublish' | 'training' | 'whenIdle'>,
): OperatorFunction<StreamRecord, StreamRecord> {
  return (source) =>
    new Observable<StreamRecord>((subscriber) => {
      let held: StreamRecord[] | undefined = registry.current() ? undefined : [];
      let bootstrapping: Promise<boolean> | undefined;
      const release = () => {
        if (!held) return;
        const out = held;
        held = undefined;
        clearTimeout(timer);
        for (const r of out) subscriber.next(r);
      };
      const timer = held ? setTimeout(release, options.timeoutMs) : undefined;
      const unsubscribe = registry.onPublish(release);
      const bootstrap = (): Promise<boolean> => {
        // Publishing releases the records through onPublish; a failed or impossible fit leaves
        // them to the timeout, the first trained model, or the end of the input.
        bootstrapping ??= options.bootstrap!.publish(held ?? []).catch((error: unknown) => {
          subscriber.error(error);
          return false;
        });
        return bootstrapping;
      };
      const onStop = (): void => {
        if (held && options.bootstrap) void bootstrap().then(release);
      };
      options.stopping?.addEventListener('abort', onStop, { once: true });
      const sub = source.subscribe({
        next(r) {
          if (!held) return subscriber.next(r);
          held.push(r);
          if (options.bootstrap && held.length >= options.bootstrap.records) void bootstrap();
          else if (options.maxHeld !== undefined && held.length >= options.maxHeld) release();
        },
        error: (e) => subscriber.error(e),
        complete() {
          const finish = () => {
            release();
            subscriber.complete();
          };
          // A short input can end while the first round is still training: wait for that round
          // (it publishes, or fails and ends) rather than releasing everything unassigned; with a
          // bootstrap and no round coming, fit it on what was held.
          if (held && registry.training) void registry.whenIdle().then(finish);
          else if (held && held.length > 0 && options.bootstrap) void bootstrap().then(finish);
          else finish();
        },
      });
      return () => {
        clearTimeout(timer);
        unsubscribe();
        options.stopping?.removeEventListener('abort', onStop);
        sub.unsubscribe();
      };
    });
}
