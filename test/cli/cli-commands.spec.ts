import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { TextSink, tempDir } from '../support/pipeline-harness.ts';

async function cli(args: string[]) {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await main(args, { stdout, stderr, env: { PATH: process.env.PATH } });
  return { code, out: stdout.text, err: stderr.text };
}

describe('CLI commands', () => {
  it('validate prints one line per issue and exits 2; --json gives the same issues as data', async () => {
    const file = 'test/fixtures/invalid-pipelines/26-several-mistakes-at-once.json';
    const human = await cli(['validate', file]);
    expect(human.code).toBe(2);
    expect(human.out.trim().split('\n')).toHaveLength(4);
    expect(human.out).toContain(`${file}: TS_ERR_CONFIG_TYPE at $.sink.with.fsync: expected true or false, found "yes"`);
    const json = await cli(['validate', '--json', file]);
    const [verdict] = JSON.parse(json.out);
    expect(verdict).toMatchObject({ file, valid: false });
    expect(verdict.issues[1]).toEqual({ code: 'TS_ERR_CONFIG_TYPE', path: '$.sink.with.fsync', expected: 'true or false', found: '"yes"', message: 'expected true or false, found "yes"' });
  });

  it('validate accepts the example pipeline with its third-party plugin', async () => {
    const r = await cli(['validate', 'examples/size-guarded-replay.json']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid (replay -> byte-size-guard -> jsonl)');
  });

  it('plugins lists built-ins and documents one plugin from its schema', async () => {
    const list = await cli(['plugins']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^jsonl \(sink\)$/m);
    const one = await cli(['plugins', 'jsonl']);
    expect(one.out).toContain('path: string (required) - Output file, relative to the pipeline file; "-" for stdout.');
    expect(one.out).toContain('batchSize: integer (default 512)');
    const typo = await cli(['plugins', 'jsnol']);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('did you mean "jsonl"?');
  });

  it('schema writes a JSON Schema whose plugin configs come from the plugin schemas', async () => {
    const out = join(await tempDir(), 'pipeline.schema.json');
    const r = await cli(['schema', '--out', out]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(await readFile(out, 'utf8'));
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'source', 'sink']));
    expect(schema.properties.sink.properties.use.enum).toContain('jsonl');
    const jsonl = schema.properties.sink.allOf.find((c: any) => c.if.properties.use.const === 'jsonl');
    expect(jsonl.then.properties.with.required).toEqual(['path']);
    expect(jsonl.then.properties.with.additionalProperties).toBe(false);
  });

  it('the committed pipelines/pipeline.schema.json is up to date', async () => {
    const r = await cli(['schema', '--stdout']);
    expect(await readFile('pipelines/pipeline.schema.json', 'utf8')).toBe(r.out);
  });

  it('unknown commands and options exit 2 with help', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const r = await cli(['validate', '--jsn', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('temi-stream validate --help');
  });
});
