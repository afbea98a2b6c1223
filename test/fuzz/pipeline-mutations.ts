import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A shipped pipeline as text and value, its plugin paths made absolute so a copy elsewhere still finds them. */
export interface ShippedPipeline {
  readonly file: string;
  readonly value: Record<string, unknown>;
}

export function shippedPipelines(): ShippedPipeline[] {
  const files = [
    ...readdirSync('pipelines').filter((f) => f.endsWith('.json') && f !== 'pipeline.schema.json').map((f) => join('pipelines', f)),
    ...readdirSync('examples').filter((f) => f.endsWith('.json')).map((f) => join('examples', f)),
  ];
  return files.map((file) => {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (Array.isArray(value.plugins)) value.plugins = value.plugins.map((p: string) => (p.startsWith('.') ? resolve(dirname(file), p) : p));
    delete value.$schema;
    return { file, value };
  });
}

type Random = () => number;

const ODD_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, '', 'x', '${env:TEMI_FUZZ_UNSET}', '${env:TEMI_FUZZ_UNSET:-7}', '${env:', [], [1, 2], {}, { use: 'decode' },
  'a'.repeat(5000), '\u0000\uFEFF\u202E', '../../../../etc/passwd', 'decode', 'pixels-embed', 'index', 'train', 'assign', 'jsonl', 'files', 'kmeans', 'wait', 'bootstrap',
];
const ODD_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'use', 'with', 'id', 'k', 'capacity', 'maxInFlight', ''];

/** Every container in a value with the key or index that leads to it from its parent. */
function containers(value: unknown, out: Array<Record<string, unknown> | unknown[]> = []): Array<Record<string, unknown> | unknown[]> {
  if (value && typeof value === 'object') {
    out.push(value as Record<string, unknown> | unknown[]);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** One structural mutation in place: a key removed, a value replaced or added, stages shuffled, duplicated or dropped. */
function mutateValue(root: Record<string, unknown>, random: Random): void {
  const all = containers(root);
  const target = pick(random, all);
  const keys = Object.keys(target);
  const choice = Math.floor(random() * 6);
  if (choice === 0 && keys.length) {
    if (Array.isArray(target)) target.splice(Number(pick(random, keys)), 1);
    else delete target[pick(random, keys)];
  } else if (choice === 1 && keys.length) {
    (target as Record<string, unknown>)[pick(random, keys)] = structuredClone(pick(random, ODD_VALUES));
  } else if (choice === 2 && !Array.isArray(target)) {
    Object.defineProperty(target, pick(random, ODD_KEYS), { value: structuredClone(pick(random, ODD_VALUES)), enumerable: true, writable: true, configurable: true });
  } else if (choice === 3 && Array.isArray(root.stages) && root.stages.length) {
    const stages = root.stages as unknown[];
    const i = Math.floor(random() * stages.length);
    const j = Math.floor(random() * stages.length);
    [stages[i], stages[j]] = [stages[j], stages[i]];
  } else if (choice === 4 && Array.isArray(root.stages) && root.stages.length) {
    const stages = root.stages as unknown[];
    stages.splice(Math.floor(random() * stages.length), 0, structuredClone(pick(random, stages)));
  } else if (choice === 5 && keys.length) {
    // A number nudged across a boundary the schemas draw (k vs capacity, maxInFlight vs firstRoundAt).
    const key = pick(random, keys);
    const v = (target as Record<string, unknown>)[key];
    if (typeof v === 'number') (target as Record<string, unknown>)[key] = pick(random, [0, 1, 2, 49, 50, 51, v - 1, v + 1, v * 1000, -v]);
  }
}

/** One textual mutation: a byte flipped, inserted or deleted, the text cut short, or a key given twice. */
function mutateText(text: string, random: Random): string {
  const at = Math.floor(random() * text.length);
  switch (Math.floor(random() * 5)) {
    case 0:
      return text.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + pick(random, ['{', '}', '[', ']', ',', ':', '"', '\\', '\uFEFF', ' ']) + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
    case 3:
      return text.slice(0, at);
    default: {
      // Duplicate the first key of a random object.
      const brace = text.indexOf('{"', at);
      if (brace === -1) return text;
      const end = text.indexOf(',', brace);
      return end === -1 ? text : `${text.slice(0, end + 1)}${text.slice(brace + 1, end + 1)}${text.slice(end + 1)}`;
    }
  }
}

/** A mutant of a shipped pipeline: a few structural mutations, sometimes a textual one on top. */
export function mutantOf(pipeline: ShippedPipeline, random: Random): string {
  const value = structuredClone(pipeline.value);
  const rounds = 1 + Math.floor(random() * 3);
  for (let i = 0; i < rounds; i++) mutateValue(value, random);
  let text = JSON.stringify(value);
  if (random() < 0.3) text = mutateText(text, random);
  return text;
}

/** Hostile shapes no mutation reaches: deep nesting, huge files, keys given many times. */
/** `invalid`: whether validate must refuse it (200,000 distinct stages are merely many). */
export function hostileTexts(base: Record<string, unknown>): Array<{ readonly name: string; readonly text: string; readonly invalid: boolean }> {
  const json = JSON.stringify(base);
  const deep = (n: number, open: string, close: string) => `${open.repeat(n)}${close.repeat(n)}`;
  return [
    { name: 'arrays nested 2,000 deep in with', text: json.replace('"stages":[', `"stages":[{"use":"decode","with":{"size":${deep(2000, '[', ']')}}},`), invalid: true },
    { name: 'objects nested 100,000 deep at the top', text: `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, invalid: true },
    { name: 'a 20 MB description', text: json.replace('{', `{"description":"${'x'.repeat(20_000_000)}",`), invalid: true },
    { name: '200,000 stages', text: json.replace('"stages":[', `"stages":[${Array.from({ length: 200_000 }, (_, i) => `{"use":"decode","id":"d${i}"}`).join(',')},`), invalid: false },
    { name: 'one key given 100,000 times', text: json.replace('{', `{${'"name":"x",'.repeat(100_000)}`), invalid: true },
    { name: 'a byte order mark and NULs', text: `\uFEFF${json}\u0000`, invalid: true },
    { name: 'an empty file', text: '', invalid: true },
    { name: 'only a byte order mark', text: '\uFEFF', invalid: true },
  ];
}
