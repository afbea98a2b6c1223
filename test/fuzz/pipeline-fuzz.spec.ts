import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { map } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '../../src/runtime/contracts/plugin.ts';
import { s } from '../../src/runtime/schema/schema.ts';
import type { RunSummary } from '../../src/runtime/pipeline-run.ts';
import { runForTest, tempDir } from '../support/pipeline-harness.ts';
import { makeBaseImages, makeHostileInputs, seededRandom, type HostileInput, type InputKind } from './hostile-inputs.ts';

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
