import type { FlowControl } from '../contracts/services.ts';

/**
 * Bounds the records between source and final ack. RxJS only pushes, so the bound is explicit:
 * sources await `whenReady()` (or pause their consumer on `onChange(true)`) and resume when acks
 * bring the count back under the bound.
 */
export class InFlightLimiter implements FlowControl {
  private count = 0;
  private waiters: Array<() => void> = [];
  private listeners = new Set<(paused: boolean) => void>();
  private isPaused = false;
  private drainedWaiters: Array<() => void> = [];

  constructor(readonly maxInFlight: number, private readonly resumeAt = Math.max(1, Math.floor(maxInFlight * 0.75))) {
    if (!(maxInFlight >= 1)) throw new RangeError(`maxInFlight must be >= 1, got ${maxInFlight}`);
  }

  get inFlight(): number {
    return this.count;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  acquire(): void {
    this.count++;
    if (!this.isPaused && this.count >= this.maxInFlight) this.setPaused(true);
  }

  release(): void {
    this.count--;
    if (this.isPaused && this.count <= this.resumeAt) this.setPaused(false);
    if (this.count < this.maxInFlight) this.wakeWaiters();
    if (this.count === 0) this.wakeDrained();
  }

  whenReady(): Promise<void> {
    if (this.count < this.maxInFlight && !this.isPaused) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when every record handed out has been acknowledged. */
  whenDrained(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  onChange(listener: (paused: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setPaused(paused: boolean): void {
    this.isPaused = paused;
    for (const l of this.listeners) l(paused);
  }

  private wakeWaiters(): void {
    if (this.isPaused) return;
    const ready = this.waiters;
    this.waiters = [];
    for (const w of ready) w();
  }

  private wakeDrained(): void {
    const ready = this.drainedWaiters;
    this.drainedWaiters = [];
    for (const w of ready) w();
  }
}
