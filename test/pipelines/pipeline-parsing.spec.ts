import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCommand, validateFile } from '../../src/cli/validate-command.ts';
import { createRegistryWithBuiltins } from '../../src/plugins/builtin-plugins.ts';
import { resolvePipeline } from '../../src/plugins/resolve-pipeline.ts';
import { formatIssue } from '../../src/runtime/pipeline/format-issue.ts';
import { TextSink, tempDir } from '../support/pipeline-harness.ts';

const ENV = { PATH: process.env.PATH };
const minimal = { name: 'parsed', source: { use: 'replay', with: { path: 'in.jsonl' } }, sink: { use: 'jsonl', with: { path: 'out.jsonl' } } };

async function fileWith(text: string, name = 'pipeline.json'): Promise<string> {
  const file = join(await tempDir('temi-parse-'), name);
  await writeFile(file, text);
  return file;
}

describe('pipeline files that JSON.parse alone handles badly', () => {
  it('accepts a UTF-8 byte order mark (what Windows editors write) instead of "Unexpected token"', async () => {
    const verdict = await validateFile(await fileWith(`\uFEFF${JSON.stringify(minimal, null, 2)}`), ENV);
    expect(verdict.issues.map(formatIssue)).toEqual([]);
    expect(verdict.valid).toBe(true);
  });

  it('locates a syntax error after a byte order mark by line and column, with no invisible character', async () => {
    const file = await fileWith('\uFEFF{\n  "name": "bad",,\n}');
    const verdict = await validateFile(file, ENV);
    expect(verdict.issues.map(formatIssue)).toEqual([`TS_ERR_PIPELINE_JSON at ${file}:2:17: not valid JSON: Expected double-quoted property name`]);
  });

  it('regression: arrays nested 2,000 deep are a coded error, not a RangeError stack', async () => {
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    const file = await fileWith(JSON.stringify({ ...minimal, stages: [{ use: 'decode', with: { size: 'PLACEHOLDER' } }] }).replace('"PLACEHOLDER"', deep));
    const verdict = await validateFile(file, ENV);
    expect(verdict.valid).toBe(false);
    expect(verdict.issues.map((i) => i.code)).toEqual(['TS_ERR_PIPELINE_TOO_DEEP']);
    expect(verdict.issues[0].path).toMatch(/pipeline\.json:1:\d+$/);
  });

  it('a deeply nested value handed to resolvePipeline directly (the API) is an issue too', async () => {
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    const result = await resolvePipeline({ ...minimal, stages: [{ use: 'decode', with: { size: deep } }] }, { file: join(await tempDir(), 'p.json'), registry: createRegistryWithBuiltins(), env: ENV });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.code)).toContain('TS_ERR_PIPELINE_TOO_DEEP');
  });

  it('reports a key given twice with the JSON path of the second one', async () => {
    const file = await fileWith('{\n  "name": "a",\n  "name": "b",\n  "source": { "use": "replay", "with": { "path": "in.jsonl" } },\n  "sink": { "use": "jsonl", "with": { "path": "out.jsonl", "path": "x.jsonl" } }\n}\n');
    const verdict = await validateFile(file, ENV);
    expect(verdict.valid).toBe(false);
    expect(verdict.issues.map((i) => [i.code, i.path])).toContainEqual(['TS_ERR_PIPELINE_DUPLICATE_KEY', '$.name']);
    expect(verdict.issues.find((i) => i.path === '$.name')?.message).toContain('line 2, column 3 and line 3, column 3');
  });

  it('refuses "__proto__" and "constructor" inside `with` like any other unknown key', async () => {
    const file = await fileWith('{"name":"p","source":{"use":"replay","with":{"path":"in.jsonl","__proto__":{"x":1}}},"stages":[{"use":"decode","with":{"constructor":1}}],"sink":{"use":"jsonl","with":{"path":"o.jsonl"}}}');
    const verdict = await validateFile(file, ENV);
    expect(verdict.issues.map((i) => [i.code, i.path])).toEqual([
      ['TS_ERR_CONFIG_UNKNOWN_KEY', '$.source.with.__proto__'],
      ['TS_ERR_CONFIG_UNKNOWN_KEY', '$.stages[0].with.constructor'],
    ]);
  });

  it('regression: 1,000,000 duplicate stage ids print a capped list with the count, in bounded time', async () => {
    const stage = '{"use":"decode","id":"same"}';
    const file = await fileWith(`{"name":"many","source":{"use":"replay","with":{"path":"in.jsonl"}},"stages":[${Array.from({ length: 1_000_000 }, () => stage).join(',')}],"sink":{"use":"jsonl","with":{"path":"o.jsonl"}}}`);
    const stdout = new TextSink();
    const stderr = new TextSink();
    const code = await validateCommand([file], { stdout, stderr, env: ENV });
    expect(code).toBe(2);
    const lines = stdout.text.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(51);
    expect(lines[0]).toContain('TS_ERR_PIPELINE_DUPLICATE_ID at $.stages[1].id');
    expect(lines[lines.length - 1]).toContain('999999 in all');
  }, 120_000);

  it('--json lists at most 50 issues per file and gives the total as issueCount', async () => {
    const stage = '{"use":"decode","id":"same"}';
    const file = await fileWith(`{"name":"many","source":{"use":"replay","with":{"path":"in.jsonl"}},"stages":[${Array.from({ length: 200 }, () => stage).join(',')}],"sink":{"use":"jsonl","with":{"path":"o.jsonl"}}}`);
    const stdout = new TextSink();
    expect(await validateCommand([file, '--json'], { stdout, stderr: new TextSink(), env: ENV })).toBe(2);
    const [verdict] = JSON.parse(stdout.text) as Array<{ issues: unknown[]; issueCount: number }>;
    expect(verdict.issues).toHaveLength(50);
    expect(verdict.issueCount).toBe(199);
  });

  it('refuses a file over 64 MiB before reading it', async () => {
    const file = await fileWith('{');
    await truncate(file, 65 * 1024 * 1024);
    const verdict = await validateFile(file, ENV);
    expect(verdict.issues.map((i) => [i.code, i.path])).toEqual([['TS_ERR_PIPELINE_TOO_LARGE', file]]);
  });
});
