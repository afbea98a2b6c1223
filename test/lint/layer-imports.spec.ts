import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The project's own ESLint config (eslint.config.js), as `npm run lint` runs it.
const eslint = new ESLint({ cwd: process.cwd() });

async function layerErrors(filePath: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath });
  return result.messages.filter((m) => m.ruleId === 'layers/imports').map((m) => m.message);
}

describe('npm run lint: the layer rule', () => {
  it('fails an upward import from the runtime (the engine building the clustering registry)', async () => {
    const errors = await layerErrors('src/runtime/pipeline-run.ts', "import { PersistentModelRegistry } from '../clustering/registry/model-registry.ts';\nexport const r = PersistentModelRegistry;\n");
    expect(errors).toEqual([
      'src/runtime/pipeline-run.ts (runtime) may not import src/clustering/registry/model-registry.ts (domain libraries): runtime imports only runtime. See docs/ARCHITECTURE.md, "Layers".',
    ]);
  });

  it('judges where an import lands, whatever the depth: re-exports, dynamic and type imports too', async () => {
    const errors = await layerErrors(
      'src/runtime/contracts/models.ts',
      [
        "export * from '../../tf/tf.ts';",
        "export { builtinPlugins } from '../../plugins/builtin-plugins.ts';",
        "export const load = () => import('../../stages/train/train-stage.plugin.ts');",
        "export type Run = import('../../cli/main.ts').Exit;",
        "import { s } from '../schema/schema.ts';",
        'export const t = s;',
      ].join('\n'),
    );
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'src/runtime/contracts/models.ts (runtime) may not import src/tf/tf.ts (domain libraries)',
      'src/runtime/contracts/models.ts (runtime) may not import src/plugins/builtin-plugins.ts (plugin machinery)',
      'src/runtime/contracts/models.ts (runtime) may not import src/stages/train/train-stage.plugin.ts (built-in plugins)',
      'src/runtime/contracts/models.ts (runtime) may not import src/cli/main.ts (cli and bench)',
    ]);
  });

  it('lets domain libraries import the runtime and each other, not the plugins above them', async () => {
    expect(await layerErrors('src/clustering/registry/x.ts', "import { s } from '../../runtime/contracts/index.ts';\nimport { tf } from '../../tf/tf.ts';\nexport const a = [s, tf];\n")).toEqual([]);
    expect(await layerErrors('src/report/x.ts', "import { evaluateStagePlugin } from '../stages/evaluate/evaluate-stage.plugin.ts';\nexport const e = evaluateStagePlugin;\n")).toEqual([
      'src/report/x.ts (domain libraries) may not import src/stages/evaluate/evaluate-stage.plugin.ts (built-in plugins): domain libraries imports only domain libraries, runtime. See docs/ARCHITECTURE.md, "Layers".',
    ]);
  });

  it('lets built-in stages reach the runtime only through the public entry points, as third-party plugins do', async () => {
    expect(await layerErrors('src/stages/x/x.plugin.ts', "import { definePlugin } from '../../runtime/contracts/index.ts';\nimport { perRecord } from 'temi-stream/operators';\nexport const p = [definePlugin, perRecord];\n")).toEqual([]);
    expect(await layerErrors('src/stages/x/x.plugin.ts', "import { TemiError } from '../../runtime/errors.ts';\nexport const e = TemiError;\n")).toEqual([
      'src/stages/x/x.plugin.ts (built-in plugins) imports runtime only through src/runtime/contracts/index.ts and src/runtime/operators/index.ts, not src/runtime/errors.ts: built-in plugins use exactly what third-party plugins get. See docs/ARCHITECTURE.md, "Layers".',
    ]);
    expect(await layerErrors('src/stages/x/x.plugin.ts', "import { createRegistryWithBuiltins } from '../../plugins/builtin-plugins.ts';\nexport const r = createRegistryWithBuiltins;\n")).toHaveLength(1);
  });

  it('keeps the cli and the package entry above everything: nothing below imports them', async () => {
    expect(await layerErrors('src/plugins/x.ts', "import { main } from '../cli/main.ts';\nexport const m = main;\n")).toHaveLength(1);
    expect(await layerErrors('src/plugins/x.ts', "import { PipelineRun } from 'temi-stream';\nexport const r = PipelineRun;\n")).toHaveLength(1);
    expect(await layerErrors('src/cli/x.ts', "import { builtinPlugins } from '../plugins/builtin-plugins.ts';\nimport { PipelineRun } from '../runtime/pipeline-run.ts';\nexport const b = [builtinPlugins, PipelineRun];\n")).toEqual([]);
  });

  it('leaves specs and tests free to import across layers', async () => {
    expect(await layerErrors('src/runtime/x.spec.ts', "import { tf } from '../tf/tf.ts';\nexport const t = tf;\n")).toEqual([]);
    expect(await layerErrors('test/runtime/x.ts', "import { builtinPlugins } from '../../src/plugins/builtin-plugins.ts';\nexport const b = builtinPlugins;\n")).toEqual([]);
  });
});
