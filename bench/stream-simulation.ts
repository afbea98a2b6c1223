/**
 * A stream replayed through the train stage's own round logic (PeriodicTrainer: schedule, drift
 * monitor, label-free choice, stable ids, publishing) with an in-memory window for the index and
 * a real model registry, so bench:quality measures what a pipeline would deliver. Records arrive
 * in `order`, in chunks; each chunk is labelled by the model in service when it arrives (first
 * emitted), then counted by the trainer, whose rounds run as they fall due while the stream
 * waits (a pipeline keeps labelling with the old model meanwhile, so these first-emitted figures
 * are a little kinder than a live run's). The first `bootstrapRecords` records wait for the
 * bootstrap model, as assign's `bootstrap` does. At the end the final round runs and the final
 * model relabels every record (the window holds them all): the delivered labels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterTrainer } from '../src/clustering/contracts.ts';
import { PersistentModelRegistry } from '../src/clustering/registry/model-registry.ts';
import type { LogFields, Logger, NeighbourIndex } from '../src/runtime/contracts/index.ts';
import { FileStateStore } from '../src/runtime/services/file-state-store.ts';
import { PromMetrics } from '../src/runtime/services/prom-metrics.ts';
import { systemClock } from '../src/runtime/services/system-clock.ts';
import { fitBootstrapRows } from '../src/stages/assign/bootstrap-kmeans.ts';
import { PeriodicTrainer, type RoundSettings } from '../src/stages/train/periodic-trainer.ts';
import { buildNeighbourTable } from '../src/vector-index/neighbour-table.ts';

export interface StreamSimulation {
  readonly clusters: number;
  readonly seed: number;
  readonly bootstrapRecords: number;
  /** Plain k-means on raw rows for the bootstrap instead of the window choice. */
  readonly bootstrapWindow: boolean;
  readonly round: RoundSettings;
  readonly chunk: number;
}

export interface StreamOutcome {
  /** Indexed like the data set (not like the order). */
  readonly firstEmitted: Int32Array;
  readonly delivered: Int32Array;
  readonly rounds: number;
  /** One line per round: records seen, winner, candidates' scores; and drift triggers. */
  readonly log: string[];
  readonly seconds: number;
}

export async function simulateStream(embeddings: Float32Array, dim: number, order: Int32Array, trainer: ClusterTrainer, s: StreamSimulation): Promise<StreamOutcome> {
  const started = performance.now();
  const count = order.length;
  const arrived = new Float32Array(count * dim);
  order.forEach((row, i) => arrived.set(embeddings.subarray(row * dim, (row + 1) * dim), i * dim));
  let size = 0;
  const index: NeighbourIndex = {
    get size() {
      return size;
    },
    get added() {
      return size;
    },
    search: () => Promise.reject(new Error('the stream simulation mines training sets only')),
    trainingSet: async (k) => {
      const window = arrived.slice(0, size * dim);
      const neighbours = await buildNeighbourTable(window, size, dim, Math.min(k, size - 1), { exact: false });
      return { count: size, dim, embeddings: window, neighbours, keys: BigUint64Array.from({ length: size }, (_, i) => BigInt(i + 1)) };
    },
  };
  const log: string[] = [];
  const logger = collectingLogger(log, () => size);
  const directory = mkdtempSync(join(tmpdir(), 'stream-sim-'));
  const registry = new PersistentModelRegistry(new FileStateStore(directory), systemClock, logger);
  const periodic = new PeriodicTrainer(trainer, index, registry, s.round, systemClock, logger, new PromMetrics());
  const firstEmitted = new Int32Array(count).fill(-1);
  const label = (from: number, to: number): void => {
    const model = registry.current()!.model;
    const { cluster } = model.assign(arrived.subarray(from * dim, to * dim), to - from);
    for (let i = from; i < to; i++) firstEmitted[order[i]] = cluster[i - from];
  };
  try {
    const held = Math.min(s.bootstrapRecords, count);
    size = held;
    const bootstrap = await fitBootstrapRows(arrived.slice(0, held * dim), held, dim, s.clusters, s.seed, s.bootstrapWindow);
    await registry.publish(bootstrap.model, { trainedOn: held });
    log.push(`bootstrap on ${held}: ${bootstrap.winner ?? 'k-means (raw rows)'} ${bootstrap.scores ? JSON.stringify(round4(bootstrap.scores)) : ''}`);
    label(0, held);
    for (let i = 0; i < held; i++) periodic.observe(1, arrived.subarray(i * dim, (i + 1) * dim));
    await periodic.drain(false);
    for (let from = held; from < count; from += s.chunk) {
      const to = Math.min(from + s.chunk, count);
      size = to;
      label(from, to);
      for (let i = from; i < to; i++) periodic.observe(1, arrived.subarray(i * dim, (i + 1) * dim));
      await periodic.drain(false);
    }
    await periodic.drain(true);
    const final = registry.current()!.model.assign(arrived, count).cluster;
    const delivered = new Int32Array(count);
    order.forEach((row, i) => (delivered[row] = final[i]));
    return { firstEmitted, delivered, rounds: periodic.rounds, log, seconds: (performance.now() - started) / 1000 };
  } finally {
    registry.current()?.model.dispose();
    rmSync(directory, { recursive: true, force: true });
  }
}

function round4(scores: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, Number(v.toFixed(4))]));
}

/** Keeps the trainer's round and drift lines, prefixed with the records seen. */
function collectingLogger(lines: string[], seen: () => number): Logger {
  const keep = (level: string) => (message: string, fields?: LogFields) => {
    if (level === 'debug' || message === 'model published') return;
    if (message.startsWith('training round done') && fields) {
      lines.push(`${seen()} records: ${fields.winner} wins ${JSON.stringify(fields.scores ?? {})}${message.includes('stays') ? ' (kept)' : ''}`);
    } else if (!message.startsWith('round candidates')) {
      lines.push(`${seen()} records: ${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    }
  };
  const logger: Logger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error'), child: () => logger };
  return logger;
}
