import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** A labels line as far as choosing the latest per record needs it. */
export interface LabelLineIdentity {
  readonly id?: string;
  readonly key?: string;
  readonly modelVersion?: number | null;
  readonly revision?: boolean;
}

export interface LabelsFileCounts {
  /** Lines that parsed (blank and torn lines are skipped). */
  readonly lines: number;
  readonly revisions: number;
  /** Distinct records. */
  readonly records: number;
}

/**
 * The latest label per record of a jsonl labels file, where revised labels are appended as lines
 * of their own: for each id (or key), the line with the highest modelVersion, the later line on a
 * tie (a re-labelled re-read). Two passes over the file, memory bounded by one entry per record, so
 * a file of millions of lines streams through. Lines are yielded in file order, as parsed objects
 * with the text they came from.
 */
export async function* readLatestLabels<T extends LabelLineIdentity>(file: string): AsyncGenerator<{ readonly line: T; readonly text: string }> {
  const best = await latestLineNumbers(file);
  let n = 0;
  for await (const { line, text } of parsedLines<T>(file)) {
    const id = identity(line, n);
    if (best.get(id)?.line === n) yield { line, text };
    n++;
  }
}

/** How many lines, revisions and records a labels file holds. */
export async function countLabels(file: string): Promise<LabelsFileCounts> {
  let lines = 0;
  let revisions = 0;
  const ids = new Set<string>();
  for await (const { line } of parsedLines<LabelLineIdentity>(file)) {
    ids.add(identity(line, lines));
    lines++;
    if (line.revision === true) revisions++;
  }
  return { lines, revisions, records: ids.size };
}

async function latestLineNumbers(file: string): Promise<Map<string, { line: number; version: number }>> {
  const best = new Map<string, { line: number; version: number }>();
  let n = 0;
  for await (const { line } of parsedLines<LabelLineIdentity>(file)) {
    const id = identity(line, n);
    const version = typeof line.modelVersion === 'number' ? line.modelVersion : -1;
    const seen = best.get(id);
    if (!seen || version >= seen.version) best.set(id, { line: n, version });
    n++;
  }
  return best;
}

/** What a line is the label of: its id, else its key, else its position. */
export function identity(line: LabelLineIdentity, n: number): string {
  return line.id ?? line.key ?? `#${n}`;
}

/** Parsed lines in file order; a torn or non-JSON line (a run killed mid-write) is skipped, not fatal. */
export async function* parsedLines<T>(file: string): AsyncGenerator<{ line: T; text: string }> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.trim()) continue;
    let line: T;
    try {
      line = JSON.parse(text) as T;
    } catch {
      continue;
    }
    if (typeof line !== 'object' || line === null) continue;
    yield { line, text };
  }
}
