/** What `StopDeadline.race` gives back instead of the work's result once the stop's time is up. */
export const DEADLINE_PASSED: unique symbol = Symbol('stop deadline passed');

/**
 * The time a graceful stop may take (`runtime.drainTimeoutMs`), counted from the stop request.
 * Every wait on the way out (the stream's completion, drain hooks, sink flushes, the last acks)
 * races it, so a slow sink with a full in-flight window cannot stretch the stop past what the
 * docs promise. Before a stop is requested, `race` waits for the work alone: a finite source
 * that ends by itself takes as long as its records do.
 */
export class StopDeadline {
  private timer: NodeJS.Timeout | undefined;
  private endsAt: number | undefined;
  private reached!: () => void;
  private readonly passed: Promise<typeof DEADLINE_PASSED>;

  constructor(readonly budgetMs: number) {
    this.passed = new Promise((resolve) => {
      this.reached = () => resolve(DEADLINE_PASSED);
    });
  }

  /** Starts the clock; later calls keep the first deadline. */
  start(): void {
    if (this.endsAt !== undefined) return;
    this.endsAt = Date.now() + this.budgetMs;
    this.timer = setTimeout(this.reached, this.budgetMs);
  }

  get started(): boolean {
    return this.endsAt !== undefined;
  }

  get expired(): boolean {
    return this.endsAt !== undefined && Date.now() >= this.endsAt;
  }

  /** Milliseconds left once started; the whole budget before. */
  get remainingMs(): number {
    return this.endsAt === undefined ? this.budgetMs : Math.max(0, this.endsAt - Date.now());
  }

  /** The work's result, or DEADLINE_PASSED when a stop's time runs out first (the work goes on unobserved). */
  race<T>(work: Promise<T>): Promise<T | typeof DEADLINE_PASSED> {
    return Promise.race([work, this.passed]);
  }

  dispose(): void {
    clearTimeout(this.timer);
    // Anyone still racing is let go.
    this.reached();
  }
}
