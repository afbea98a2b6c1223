import { Observable, type OperatorFunction, type Subscription } from 'rxjs';

export interface WarmupOptions<T> {
  /** Items to collect before fitting. */
  readonly size: number;
  /** False while a fit is still needed (true after a restore, so nothing is held back). */
  readonly fitted: () => boolean;
  /** Fits on the sample and returns what to pass on (normally the sample itself, in order). */
  readonly fit: (sample: T[]) => Promise<T[]>;
  /** Fit now with what has arrived so far, e.g. when the source paused because the in-flight bound is reached by the held sample. */
  readonly fitNow?: Observable<unknown>;
}

/**
 * Holds the first `size` items back, fits on them, releases them, then passes everything straight
 * through. Items that arrive while the fit runs wait behind the sample, so order is kept. The
 * sample is also fitted when the source completes early or `fitNow` fires: a held-back sample
 * larger than the pipeline's in-flight bound would otherwise wait forever for more input.
 */
export function fitOnWarmup<T>({ size, fitted, fit, fitNow }: WarmupOptions<T>): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let phase: 'collecting' | 'fitting' | 'passing' = fitted() ? 'passing' : 'collecting';
      let held: T[] = [];
      let sourceDone = false;

      const startFit = () => {
        if (phase !== 'collecting' || held.length === 0) return;
        phase = 'fitting';
        const sample = held;
        held = [];
        fit(sample).then(
          (released) => {
            phase = 'passing';
            for (const item of released) subscriber.next(item);
            for (const item of held) subscriber.next(item);
            held = [];
            if (sourceDone) subscriber.complete();
          },
          (error) => subscriber.error(error),
        );
      };

      const trigger: Subscription | undefined = fitNow?.subscribe(() => startFit());
      const subscription = source.subscribe({
        next(item) {
          if (phase === 'passing') return subscriber.next(item);
          held.push(item);
          if (phase === 'collecting' && held.length >= size) startFit();
        },
        error: (error) => subscriber.error(error),
        complete() {
          sourceDone = true;
          if (phase === 'collecting') {
            if (held.length === 0) subscriber.complete();
            else startFit();
          } else if (phase === 'passing') subscriber.complete();
        },
      });
      return () => {
        trigger?.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
