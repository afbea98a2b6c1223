import type { Progress, ProgressCounter, ProgressStatus } from '../contracts/services.ts';

type Entry = { kind: 'counter'; name: string; value: number } | { kind: 'status'; name: string; text: string | undefined };

/**
 * Progress for finite and endless sources: a line redrawn in place on a terminal, plain periodic
 * lines otherwise (CI logs, pipes), so nobody stares at a silent process. Besides the records
 * the sink wrote (and revised) it shows what stages report through the `progress` service, in
 * the order they registered (pipeline order): records indexed, the training round's step,
 * records labelled.
 */
export class ProgressReporter implements Progress {
  private written = 0;
  private revised = 0;
  private total: number | undefined;
  private readonly entries = new Map<string, Entry>();
  private started = Date.now();
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly mode: 'bar' | 'lines' | 'off',
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr,
    private readonly intervalMs = mode === 'bar' ? 200 : 5000,
  ) {}

  static modeFor(setting: 'auto' | 'bar' | 'lines' | 'off', stream: NodeJS.WritableStream = process.stderr): 'bar' | 'lines' | 'off' {
    if (setting !== 'auto') return setting;
    return (stream as NodeJS.WriteStream).isTTY ? 'bar' : 'lines';
  }

  counter(name: string): ProgressCounter {
    const entry = this.entry(name, () => ({ kind: 'counter', name, value: 0 }));
    return {
      add: (n = 1) => {
        if (entry.kind === 'counter') entry.value += n;
      },
    };
  }

  status(name: string): ProgressStatus {
    const entry = this.entry(name, () => ({ kind: 'status', name, text: undefined }));
    return {
      set: (text) => {
        if (entry.kind === 'status') entry.text = text;
      },
    };
  }

  /** Starts the clock and the redraws; `total` is what a finite source said it will emit. */
  start(total?: number): void {
    this.total = total;
    this.started = Date.now();
    if (this.mode === 'off') return;
    this.timer = setInterval(() => this.draw(false), this.intervalMs);
    this.timer.unref();
  }

  /** Records the sink wrote: `n` first labels and `revisions` revised ones. */
  add(n = 1, revisions = 0): void {
    this.written += n;
    this.revised += revisions;
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.mode !== 'off') this.draw(true);
  }

  line(): string {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.written / seconds : 0;
    const parts: string[] = [];
    for (const entry of this.entries.values()) {
      if (entry.kind === 'counter') parts.push(`${entry.name} ${entry.value}`);
      else if (entry.text !== undefined) parts.push(`${entry.name}: ${entry.text}`);
    }
    const pct = this.total ? ` (${Math.min(100, (100 * this.written) / this.total).toFixed(1)}%)` : '';
    parts.push(`written ${this.written}${this.total ? `/${this.total}` : ''}${pct}`);
    if (this.revised > 0) parts.push(`revised ${this.revised}`);
    parts.push(`${rate.toFixed(1)}/s`);
    if (this.total && rate > 0 && this.written < this.total) parts.push(`ETA ${formatDuration((this.total - this.written) / rate)}`);
    parts.push(`elapsed ${formatDuration(seconds)}`);
    return parts.join('  ');
  }

  private entry(name: string, create: () => Entry): Entry {
    let entry = this.entries.get(name);
    if (!entry) {
      entry = create();
      this.entries.set(name, entry);
    }
    return entry;
  }

  private draw(final: boolean): void {
    if (!final && Date.now() - this.lastDraw < this.intervalMs / 2) return;
    this.lastDraw = Date.now();
    if (this.mode === 'bar') {
      // A line wider than the terminal wraps, and \r then redraws only its last row.
      const columns = (this.out as NodeJS.WriteStream).columns;
      const text = columns ? this.line().slice(0, columns - 1) : this.line();
      this.out.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    } else {
      this.out.write(`progress: ${this.line()}\n`);
    }
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
