import { afterEach, describe, expect, it } from 'vitest';
import { blobs } from '../../../test/support/blob-window.ts';
import { killWorkerOf } from '../../../test/support/kill-worker.ts';
import { tempDir } from '../../../test/support/pipeline-harness.ts';
import { PersistentModelRegistry } from '../../clustering/registry/model-registry.ts';
import { WorkerTrainer } from '../../clustering/worker/worker-trainer.ts';
import { VectorIndex } from '../../vector-index/vector-index.ts';
import { FileStateStore } from '../../runtime/services/file-state-store.ts';
import { createLogger } from '../../runtime/services/pino-logger.ts';
import { PromMetrics } from '../../runtime/services/prom-metrics.ts';
import { SecretRedactor } from '../../runtime/services/secret-redactor.ts';
import { systemClock } from '../../runtime/services/system-clock.ts';
import { PeriodicTrainer } from './periodic-trainer.ts';

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
