import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { map } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '../../src/runtime/contracts/plugin.ts';
import { s } from '../../src/runtime/schema/schema.ts';
import type { RunSummary } from '../../src/runtime/pipeline-run.ts';
import { validateCommand } from '../../src/cli/validate-command.ts';
import { runForTest, TextSink, tempDir } from '../support/pipeline-harness.ts';
import { makeBaseImages, makeHostileInputs, seededRandom, type HostileInput, type InputKind } from './hostile-inputs.ts';
import { hostileTexts, mutantOf, shippedPipelines } from './pipeline-mutations.ts';

const INPUTS = 12_000;

/**
 * A third-party stage, written against the public contract, that corrupts the embeddings of the
 * records whose id says so: the way a buggy model would hand NaN/Inf to the index.
 */
const poisonEmbeddings = definePlugin({
  name: 'poison-embeddings',
  kind: 'stage',
  description: 'Test stage: writes NaN or Infinity into the embedding of records whose key starts with nan- or inf-.',
  configSchema: s.object({}),
  deps: {},
  create: () => ({
    operator: (source) =>
      source.pipe(
        map((record) => {
          const e = record.payload.embedding;
          if (e && record.key.startsWith('nan-')) e[Math.floor(e.length / 2)] = Number.NaN;
          if (e && record.key.startsWith('inf-')) e[0] = Number.NEGATIVE_INFINITY;
          return record;
        }),
      ),
  }),
});

interface Outcome {
  readonly line: number;
  readonly key: string;
  readonly code?: string;
  readonly reason?: string;
}

async function readOutcomes(file: string): Promise<Outcome[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim()).map((l) => {
    const v = JSON.parse(l) as { key: string; code?: string; reason?: string; origin?: { position?: number } };
    return { line: v.origin?.position ?? -1, key: v.key, code: v.code, reason: v.reason };
  });
}

describe('hostile-input fuzzing: replay -> decode -> pixels-embed -> (poison) -> index -> jsonl', () => {
  let inputs: HostileInput[];
  let written: Outcome[];
  let dead: Outcome[];
  let summary: RunSummary;

  beforeAll(async () => {
    const dir = await tempDir('temi-fuzz-');
    const random = seededRandom(20261123);
    inputs = makeHostileInputs(INPUTS, await makeBaseImages(random), random);
    await writeFile(join(dir, 'hostile.jsonl'), `${inputs.map((i) => i.text).join('\n')}\n`);
    const result = await runForTest(
      {
        name: 'fuzz',
        source: { use: 'replay', with: { path: 'hostile.jsonl' } },
        stages: [
          { use: 'decode', with: { size: 8, channels: 1, range: '0..1', maxPixels: 1_000_000, concurrency: 2 } },
          { use: 'pixels-embed', with: { l2normalize: false } },
          { use: 'poison-embeddings' },
          { use: 'index', with: { metric: 'l2sq', capacity: 20_000 } },
        ],
        sink: { use: 'jsonl', with: { path: join(dir, 'labels.jsonl') } },
        deadLetter: { use: 'dead-letter', with: { path: join(dir, 'dead-letters.jsonl') } },
        state: { dir: join(dir, 'state') },
      },
      dir,
      [poisonEmbeddings],
    );
    summary = result.summary;
    written = await readOutcomes(join(dir, 'labels.jsonl'));
    dead = await readOutcomes(join(dir, 'dead-letters.jsonl'));
  }, 300_000);

  const outcomesOf = (kind: InputKind) => {
    const lines = new Set(inputs.filter((i) => i.kind === kind).map((i) => i.line));
    return { written: written.filter((o) => lines.has(o.line)), dead: dead.filter((o) => lines.has(o.line)), count: lines.size };
  };

  it(`accounts for every one of ${INPUTS} inputs exactly once: written or dead-lettered`, () => {
    expect(summary.stopped).toBe(false);
    expect(written.length + dead.length).toBe(INPUTS);
    const seen = new Map<number, number>();
    for (const o of [...written, ...dead]) seen.set(o.line, (seen.get(o.line) ?? 0) + 1);
    const missing = inputs.filter((i) => !seen.has(i.line)).map((i) => `${i.line}:${i.kind}`);
    const twice = [...seen].filter(([, n]) => n > 1).map(([line]) => line);
    expect(missing, 'inputs with no outcome').toEqual([]);
    expect(twice, 'inputs with two outcomes').toEqual([]);
    expect(summary.written).toBe(written.length);
    expect(summary.deadLettered).toBe(dead.length);
  });

  it('gives every dead letter an error code and a reason', () => {
    const incomplete = dead.filter((d) => !/^TS_ERR_[A-Z0-9_]+$/.test(d.code ?? '') || !(d.reason ?? '').trim());
    expect(incomplete.slice(0, 5)).toEqual([]);
  });

  it('keeps every well-formed image and keys it by its envelope id', () => {
    const valid = outcomesOf('valid');
    expect(valid.dead).toEqual([]);
    expect(valid.written).toHaveLength(valid.count);
    for (const o of valid.written) expect(o.key).toBe(`valid-${o.line}`);
  });

  it.each([
    ['zero-byte', /^TS_ERR_ENVELOPE_SHAPE$/],
    ['bad-envelope', /^TS_ERR_ENVELOPE_/],
    ['bomb', /^TS_ERR_DECODE_/],
    ['wrong-format', /^TS_ERR_DECODE_/],
    ['random-bytes', /^TS_ERR_DECODE_/],
    ['oversized', /^TS_ERR_DECODE_/],
    ['nan-embedding', /^TS_ERR_INDEX_BAD_VECTOR$/],
    ['inf-embedding', /^TS_ERR_INDEX_BAD_VECTOR$/],
  ] as const)('dead-letters every %s input with a matching code', (kind, code) => {
    const outcome = outcomesOf(kind);
    expect(outcome.count).toBeGreaterThan(0);
    expect(outcome.written.map((o) => o.key)).toEqual([]);
    for (const d of outcome.dead) expect(d.code, `${d.key}: ${d.reason}`).toMatch(code);
  });
});

describe('pipeline JSON fuzzing: validate answers every file with exit 0 or 2', () => {
  const MUTANTS = 400;
  const env = { PATH: process.env.PATH };

  async function validateText(dir: string, name: string, text: string): Promise<{ code: number; out: string }> {
    const file = join(dir, name);
    await writeFile(file, text);
    const stdout = new TextSink();
    const code = await validateCommand([file], { stdout, stderr: new TextSink(), env });
    return { code, out: stdout.text };
  }

  it(`${MUTANTS} random mutations of the shipped pipelines: each valid (0) or coded issues (2), never a throw`, async () => {
    const dir = await tempDir('temi-pipeline-fuzz-');
    const random = seededRandom(20261203);
    const shipped = shippedPipelines();
    const codes = { valid: 0, invalid: 0 };
    for (let i = 0; i < MUTANTS; i++) {
      const text = mutantOf(shipped[i % shipped.length], random);
      const { code, out } = await validateText(dir, `mutant-${i}.json`, text);
      expect([0, 2], `mutant ${i}: ${text.slice(0, 300)}`).toContain(code);
      if (code === 2) expect(out, `mutant ${i}`).toMatch(/TS_ERR_[A-Z0-9_]+ at /);
      codes[code === 0 ? 'valid' : 'invalid']++;
    }
    // The mutations reach both answers, or the test shows nothing.
    expect(codes.valid).toBeGreaterThan(0);
    expect(codes.invalid).toBeGreaterThan(0);
  }, 300_000);

  const base = shippedPipelines().find((p) => p.file.endsWith('fashion-mnist.json'))!.value;
  it.each(hostileTexts(base).map((h) => [h.name, h.text, h.invalid] as const))('%s: answered in bounded time, with capped output', async (name, text, invalid) => {
    const dir = await tempDir('temi-pipeline-hostile-');
    const { code, out } = await validateText(dir, 'hostile.json', text);
    expect([0, 2]).toContain(code);
    if (invalid) expect(code, name).toBe(2);
    if (code === 2) expect(out).toMatch(/TS_ERR_[A-Z0-9_]+ at /);
    expect(out.split('\n').length).toBeLessThanOrEqual(52);
  }, 120_000);

  it('the real CLI process exits 2, with no stack trace, for hostile files and mutants given at once', async () => {
    const dir = await tempDir('temi-pipeline-cli-fuzz-');
    const random = seededRandom(7);
    const shipped = shippedPipelines();
    const files: string[] = [];
    for (const [i, h] of hostileTexts(base).entries()) {
      if (h.text.length > 1_000_000) continue;
      files.push(join(dir, `hostile-${i}.json`));
      await writeFile(files[files.length - 1], h.text);
    }
    for (let i = 0; i < 40; i++) {
      files.push(join(dir, `mutant-${i}.json`));
      await writeFile(files[files.length - 1], mutantOf(shipped[i % shipped.length], random));
    }
    const result = await promisify(execFile)(process.execPath, [resolve('bin/temi-stream.js'), 'validate', ...files], { env, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/RangeError|at .*\.ts:\d+/);
  }, 180_000);
});
