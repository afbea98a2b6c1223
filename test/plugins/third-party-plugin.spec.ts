import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistryWithBuiltins } from '../../src/plugins/builtin-plugins.ts';
import { PipelineRun } from '../../src/runtime/pipeline-run.ts';
import { resolvePipelineFile } from '../../src/plugins/resolve-pipeline.ts';
import { TextSink, tempDir } from '../support/pipeline-harness.ts';

describe('third-party plugins', () => {
  it('the example plugin imports only the public contract', async () => {
    const source = await readFile('examples/plugins/byte-size-guard.ts', 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.sort()).toEqual(['temi-stream/contracts', 'temi-stream/operators']);
  });

  it('runs in a pipeline that lists it by relative path', async () => {
    const dir = await tempDir();
    const pipelineFile = join(dir, 'p.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'in.jsonl'), ['a', 'bb', 'cccccccc', 'dddddddddddddddddddd'].map((p, i) => JSON.stringify({ id: `i${i}`, image: Buffer.from(p).toString('base64') })).join('\n'));
    await writeFile(
      pipelineFile,
      JSON.stringify({
        name: 'tp',
        plugins: [resolve('examples/plugins/byte-size-guard.ts')],
        source: { use: 'replay', with: { path: 'in.jsonl' } },
        stages: [{ use: 'byte-size-guard', with: { minBytes: 2, maxBytes: 10 } }],
        sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        runtime: { progress: 'off', logLevel: 'error' },
      }),
    );
    const resolved = await resolvePipelineFile(pipelineFile, createRegistryWithBuiltins());
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
    const summary = await new PipelineRun(resolved.pipeline, { logStream: new TextSink() }).execute();
    expect(summary).toMatchObject({ records: 4, written: 2, deadLettered: 2 });
    const written = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).key);
    expect(written).toEqual(['i1', 'i2']);
    const letters = (await readFile(join(dir, 'state/tp/dead-letters.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(letters.map((l) => [l.key, l.code])).toEqual([
      ['i0', 'EXAMPLE_ERR_BYTE_SIZE'],
      ['i3', 'EXAMPLE_ERR_BYTE_SIZE'],
    ]);
    expect(await readdir(join(dir, 'state/tp'))).toContain('dead-letters.jsonl');
  });
});
