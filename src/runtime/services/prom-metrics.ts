import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Counter as ICounter, Gauge as IGauge, Histogram as IHistogram, Metrics } from '../contracts/services.ts';

/**
 * Prometheus metrics for one pipeline. Each pipeline run owns its registry (several pipelines can
 * share a process in tests); asking twice for the same name returns the same instrument.
 */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly instruments = new Map<string, ICounter | IGauge | IHistogram>();
  private server: Server | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'temi_' });
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): ICounter {
    return this.instrument(name, () => {
      const c = new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
      return { inc: (labels, value) => (labels ? c.inc(labels, value ?? 1) : c.inc(value ?? 1)) };
    });
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): IGauge {
    return this.instrument(name, () => {
      const g = new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] });
      return { set: (value, labels) => (labels ? g.set(labels, value) : g.set(value)) };
    });
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): IHistogram {
    return this.instrument(name, () => {
      const h = new Histogram({ name, help, labelNames: [...labelNames], registers: [this.registry], ...(buckets ? { buckets: [...buckets] } : {}) });
      return { observe: (value, labels) => (labels ? h.observe(labels, value) : h.observe(value)) };
    });
  }

  /** Serves /metrics on 127.0.0.1 by default; resolves with the bound port. */
  async serve(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = createServer(async (req, res) => {
      if (req.url?.startsWith('/metrics')) {
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(await this.registry.metrics());
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private instrument<T extends ICounter | IGauge | IHistogram>(name: string, make: () => T): T {
    const existing = this.instruments.get(name);
    if (existing) return existing as T;
    const created = make();
    this.instruments.set(name, created);
    return created;
  }
}
