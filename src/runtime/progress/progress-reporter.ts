/**
 * Progress for finite sources: a redrawn bar with rate and ETA on a terminal, plain periodic lines
 * otherwise (CI logs, pipes), so nobody stares at a silent process.
 */
export class ProgressReporter {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly total: number | undefined,
    private readonly mode: 'bar' | 'lines' | 'off',
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr,
    private readonly intervalMs = mode === 'bar' ? 200 : 5000,
  ) {}

  static modeFor(setting: 'auto' | 'bar' | 'lines' | 'off', stream: NodeJS.WritableStream = process.stderr): 'bar' | 'lines' | 'off' {
    if (setting !== 'auto') return setting;
    return (stream as NodeJS.WriteStream).isTTY ? 'bar' : 'lines';
  }

  start(): void {
    if (this.mode === 'off') return;
    this.timer = setInterval(() => this.draw(false), this.intervalMs);
    this.timer.unref();
  }

  add(n = 1): void {
    this.done += n;
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.mode !== 'off') this.draw(true);
  }

  line(): string {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const parts = [`${this.done}${this.total ? `/${this.total}` : ''} records`, `${rate.toFixed(1)}/s`];
    if (this.total && rate > 0) {
      const pct = Math.min(100, (100 * this.done) / this.total);
      parts.unshift(`${pct.toFixed(1)}%`);
      parts.push(`ETA ${formatDuration(Math.max(0, (this.total - this.done) / rate))}`);
    }
    parts.push(`elapsed ${formatDuration(seconds)}`);
    return parts.join('  ');
  }

  private draw(final: boolean): void {
    if (!final && Date.now() - this.lastDraw < this.intervalMs / 2) return;
    this.lastDraw = Date.now();
    if (this.mode === 'bar') {
      const width = 30;
      const filled = this.total ? Math.round((width * Math.min(this.done, this.total)) / this.total) : 0;
      const bar = this.total ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
      this.out.write(`\r${bar}${this.line()}\x1b[K${final ? '\n' : ''}`);
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
