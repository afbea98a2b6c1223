import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistryWithBuiltins } from '../../src/plugins/builtin-plugins.ts';
import { resolvePipeline } from '../../src/plugins/resolve-pipeline.ts';
import { definePlugin, type StagePlugin } from '../../src/runtime/contracts/plugin.ts';
import { s } from '../../src/runtime/schema/schema.ts';
import { tempDir } from '../support/pipeline-harness.ts';

/** A third-party stage that declares nothing: it may set any payload field or bind any service. */
const undeclared = definePlugin({ name: 'my-embedder', kind: 'stage', description: 'Test: declares no needs or provides.', configSchema: s.object({}), deps: {}, create: () => ({ operator: (x) => x }) });

async function codes(stages: unknown[], plugins: StagePlugin[] = []) {
  const registry = createRegistryWithBuiltins();
  for (const p of plugins) registry.register(p, 'test');
  const result = await resolvePipeline(
    { name: 'order', source: { use: 'replay', with: { path: 'in.jsonl' } }, stages, sink: { use: 'jsonl', with: { path: 'o.jsonl' } } },
    { file: join(await tempDir(), 'p.json'), registry, env: {} },
  );
  return result.ok ? [] : result.issues.map((i) => `${i.code} ${i.path}`);
}

describe('cross-stage checks', () => {
  it('refuse what the built-ins declare they cannot do, at the use at fault', async () => {
    expect(await codes([{ use: 'pixels-embed' }, { use: 'decode' }])).toEqual(['TS_ERR_PIPELINE_STAGE_ORDER $.stages[0].use']);
    expect(await codes([{ use: 'decode' }, { use: 'pixels-embed' }, { use: 'train' }])).toEqual(['TS_ERR_PIPELINE_MISSING_SERVICE $.stages[2].use']);
  });

  it('do not second-guess a third-party stage that declares nothing: it may embed, or bind the index', async () => {
    expect(await codes([{ use: 'my-embedder' }, { use: 'index' }, { use: 'assign' }], [undeclared])).toEqual([]);
    expect(await codes([{ use: 'decode' }, { use: 'my-embedder' }, { use: 'train' }], [undeclared])).toEqual([]);
  });

  it("a plugin whose checkPipeline throws gets a coded issue naming it; validate does not crash", async () => {
    const broken = definePlugin({ ...undeclared, name: 'broken-check', checkPipeline: () => { throw new Error('boom'); } });
    expect(await codes([{ use: 'broken-check' }], [broken])).toEqual(['TS_ERR_PLUGIN_CHECK_FAILED $.stages[0].use']);
  });
});
