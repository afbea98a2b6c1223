import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { blobs } from '../../../test/support/blob-window.ts';
import { killWorkerOf } from '../../../test/support/kill-worker.ts';
import { TextSink, tempDir } from '../../../test/support/pipeline-harness.ts';
import { PersistentModelRegistry } from '../../clustering/registry/model-registry.ts';
import { createTrainer } from '../../clustering/trainer-factory.ts';
import { chooseRoundModel, windowKMeans, type RoundChooser } from '../../clustering/window/round-choice.ts';
import { WorkerRoundChooser } from '../../clustering/worker/worker-round-chooser.ts';
import { WorkerTrainer } from '../../clustering/worker/worker-trainer.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { VectorIndex } from '../../vector-index/vector-index.ts';
import { FileStateStore } from '../../runtime/services/file-state-store.ts';
import { createLogger } from '../../runtime/services/pino-logger.ts';
import { PromMetrics } from '../../runtime/services/prom-metrics.ts';
import { SecretRedactor } from '../../runtime/services/secret-redactor.ts';
import { systemClock } from '../../runtime/services/system-clock.ts';
import { PeriodicTrainer, type RoundProgress } from './periodic-trainer.ts';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('PeriodicTrainer with a trainer that is gone', () => {
  it('stops the pipeline (the next record and the drain throw TS_ERR_TRAINER_LOST) instead of never training again', async () => {
    const data = blobs(300, 3);
    const index = await VectorIndex.create({ dimensions: data.dim, capacity: 1000 });
    closers.push(() => index.close());
    await index.add(BigUint64Array.from({ length: data.count }, (_, i) => BigInt(i + 1)), data.embeddings);
    const neighbours = { get size() { return index.size; }, added: data.count, search: index.search.bind(index), trainingSet: index.trainingSet.bind(index) };
    const logger = createLogger('silent', new SecretRedactor());
    const registry = new PersistentModelRegistry(new FileStateStore(await tempDir()), systemClock, logger);
    const trainer = await WorkerTrainer.start({ trainer: 'temi', settings: { clusters: 3, seed: 1, batchSize: 64, options: { heads: 2, hidden: 32, bottleneck: 16 } }, backend: 'cpu' });
    closers.push(() => trainer.dispose());
    const metrics = new PromMetrics();
    const periodic = new PeriodicTrainer(trainer, neighbours, registry, { firstRoundAt: 300, everyRecords: 300, epochs: 1, k: 5 }, systemClock, logger, metrics);

    await killWorkerOf(trainer);
    periodic.observe(300);
    await expect(periodic.drain(false)).rejects.toThrow(/TS_ERR_TRAINER_LOST/);
    expect(() => periodic.observe(1)).toThrow(/TS_ERR_TRAINER_LOST/);
    expect(registry.current()).toBeUndefined();
    expect(await metrics.registry.metrics()).toMatch(/temi_training_rounds_total\{outcome="lost"\} 1/);
  });
});

/** `count` rows around 10 well-separated centres in 32 dimensions: a window whose choice takes a few seconds. */
function tenGroups(count: number): Float32Array {
  const random = new SeededRandom(5);
  const centres = Array.from({ length: 10 }, () => Array.from({ length: 32 }, () => random.normal() * 3));
  return Float32Array.from({ length: count * 32 }, (_, v) => centres[Math.floor(v / 32) % 10][v % 32] + random.normal());
}

const choosers: ReadonlyArray<[string, () => Promise<RoundChooser>]> = [
  ['on the pipeline thread', async () => chooseRoundModel],
  [
    'in its own thread',
    async () => {
      const chooser = await WorkerRoundChooser.start();
      closers.push(() => chooser.dispose());
      return (data, given, options, signal) => chooser.choose(data, given, options, signal);
    },
  ],
];

describe.each(choosers)('PeriodicTrainer stopped while a round makes its choice (%s)', (where, makeChooser) => {
  it('discards the round at once, like an aborted training round: the previous model serves, trainer and schedule are as before it', async () => {
    const rows = 6000;
    const embeddings = tenGroups(rows);
    const index = await VectorIndex.create({ dimensions: 32, capacity: rows });
    closers.push(() => index.close());
    await index.add(BigUint64Array.from({ length: rows }, (_, i) => BigInt(i + 1)), embeddings);
    const neighbours = { get size() { return index.size; }, added: rows, search: index.search.bind(index), trainingSet: index.trainingSet.bind(index) };
    const logs = new TextSink();
    const logger = createLogger('debug', new SecretRedactor(), logs);
    const registry = new PersistentModelRegistry(new FileStateStore(await tempDir()), systemClock, logger);
    const previous = await registry.publish(windowKMeans({ count: 500, dim: 32, embeddings: embeddings.subarray(0, 500 * 32), neighbours: { k: 1, indices: new Int32Array(500) } }, 10, 0), { loss: 0, trainedOn: 500 });
    const trainer = createTrainer('kmeans', { clusters: 10, seed: 0, batchSize: 256, options: {} });
    const before = await trainer.snapshot();
    const metrics = new PromMetrics();
    const stop = new AbortController();
    const delay = monitorEventLoopDelay({ resolution: 5 });
    let stopAskedAt = 0;
    const onRound = (report: RoundProgress): void => {
      if (report.phase !== 'choosing') return;
      delay.enable();
      // Into the choice (the spectral embedding, or the first restarts), as a SIGTERM would land.
      setTimeout(() => {
        stopAskedAt = performance.now();
        stop.abort();
      }, 500);
    };
    const choice = { clusters: 10, seed: 0, kmeans: true, window: true, refine: false };
    const periodic = new PeriodicTrainer(trainer, neighbours, registry, { firstRoundAt: rows, everyRecords: rows, epochs: 1, k: 10, choice }, systemClock, logger, metrics, stop.signal, onRound, await makeChooser());

    periodic.observe(rows);
    await periodic.drain(true);
    const stopToEnd = performance.now() - stopAskedAt;
    delay.disable();
    console.log(`${where}: round ended ${stopToEnd.toFixed(0)} ms after the stop; event loop delayed at most ${(delay.max / 1e6).toFixed(0)} ms from the choice's start`);

    expect(stopAskedAt).toBeGreaterThan(0);
    expect(logs.text).toContain('TS_ERR_ROUND_CHOICE_ABORTED');
    expect(logs.text).not.toContain('round candidates scored');
    expect(registry.current()?.version).toBe(previous.version);
    expect(periodic.rounds).toBe(0);
    expect(periodic.failures).toBe(1);
    expect(periodic.totals.rounds).toBe(0);
    expect(await trainer.snapshot()).toEqual(before);
    expect(await metrics.registry.metrics()).toMatch(/temi_training_rounds_total\{outcome="rejected"\} 1/);
    // What the stop's final snapshot then saves: neither the round nor its training.
    expect(await periodic.snapshot()).toMatchObject({ schedule: { rounds: 0 }, trainer: before });
  });
});
