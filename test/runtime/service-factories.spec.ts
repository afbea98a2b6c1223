import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KMeansModel } from '../../src/clustering/kmeans/index.ts';
import { PersistentModelRegistry } from '../../src/clustering/registry/model-registry.ts';
import { clusteringServices, definePlugin, s, type ModelRegistry } from '../../src/runtime/contracts/index.ts';
import { FileStateStore } from '../../src/runtime/services/file-state-store.ts';
import { createLogger } from '../../src/runtime/services/pino-logger.ts';
import { SecretRedactor } from '../../src/runtime/services/secret-redactor.ts';
import { systemClock } from '../../src/runtime/services/system-clock.ts';
import { TextSink, runForTest, tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

/** A third-party stage that reads the model registry, as a plugin built on temi-stream/contracts would. */
function modelReader(seen: Array<number | undefined>) {
  return definePlugin({
    name: 'model-reader',
    kind: 'stage',
    description: 'Notes the model version in service when it starts.',
    configSchema: s.object({}),
    deps: { registry: clusteringServices.modelRegistry },
    create: ({ deps }: { deps: { registry: ModelRegistry } }) => ({
      operator: (x) => x,
      start() {
        seen.push(deps.registry.current()?.version);
      },
    }),
  });
}

describe('services created on first request', () => {
  it('gives a third-party plugin the model registry, loaded from the state directory before the plugin sees it', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 3);
    const stored = new PersistentModelRegistry(new FileStateStore(join(dir, 'state/reads')), systemClock, createLogger('warn', new SecretRedactor(), new TextSink()));
    await stored.publish(new KMeansModel(2, 2, Float32Array.from([0, 1, 1, 0]), 'euclidean', 1), { trainedOn: 10 });
    const seen: Array<number | undefined> = [];
    const { summary } = await runForTest(
      { name: 'reads', source: { use: 'replay', with: { path: 'in.jsonl' } }, stages: [{ use: 'model-reader' }], sink: { use: 'jsonl', with: { path: 'out.jsonl' } } },
      dir,
      [modelReader(seen)],
    );
    expect(summary.written).toBe(3);
    expect(seen).toEqual([1]);
  });

  it('does not create or load the model registry in a pipeline where no plugin asks for it', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 3);
    // A model file the registry could not load: only a run that creates the registry trips on it.
    await mkdir(join(dir, 'state/plain/models'), { recursive: true });
    await writeFile(join(dir, 'state/plain/models/latest.json'), JSON.stringify({ version: 1, trainer: 'nobody', publishedAt: 0, model: { trainer: 'nobody' } }));
    const plain = { name: 'plain', source: { use: 'replay', with: { path: 'in.jsonl' } }, sink: { use: 'jsonl', with: { path: 'out.jsonl' } } };
    const { summary } = await runForTest(plain, dir);
    expect(summary.written).toBe(3);
    await expect(runForTest({ ...plain, stages: [{ use: 'model-reader' }] }, dir, [modelReader([])])).rejects.toThrow(/TS_ERR_MODEL_INVALID: .*models\/latest\.json: unknown model trainer "nobody"/);
  });
});

describe('a service bound twice', () => {
  it('fails the run naming both plugins when two index stages would both provide the vector index', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 1);
    await expect(
      runForTest(
        {
          name: 'two-indexes',
          source: { use: 'replay', with: { path: 'in.jsonl' } },
          stages: [{ use: 'decode' }, { use: 'pixels-embed' }, { use: 'index', id: 'near' }, { use: 'index', id: 'far' }],
          sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        },
        dir,
      ),
    ).rejects.toThrow('TS_ERR_SERVICE_ALREADY_BOUND: $.stages[3]: plugin "index" (far) at $.stages[3] provides the service "vectorIndex", which plugin "index" (near) at $.stages[2] already provides; a pipeline holds one of each, so remove one of them');
  });
});
