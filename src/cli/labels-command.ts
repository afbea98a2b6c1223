import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { countLabels, readLatestLabels } from '../report/index.ts';
import { TemiError } from '../runtime/errors.ts';
import { EXIT, println, type CliIO } from './io.ts';

export const labelsHelp = `Usage: temi-stream labels <labels.jsonl> [--latest]

Reads a labels file written by the jsonl sink. Revised labels (a newer model changed a record's
cluster) are appended as lines of their own with "revision": true, so a record can have several
lines.

Options:
  --latest   print the latest label per record (highest modelVersion, the later line on a tie),
             one JSON line each, in file order
Without --latest, prints how many lines, revisions and records the file holds.
Exit codes: 0 ok, 1 file missing, 2 usage.`;

export async function labelsCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { latest: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || positionals.length !== 1) {
    println(values.help ? io.stdout : io.stderr, labelsHelp);
    return values.help ? EXIT.ok : EXIT.invalid;
  }
  const file = positionals[0];
  if (!existsSync(file)) {
    println(io.stderr, new TemiError('TS_ERR_LABELS_NO_FILE', 'labels file does not exist (the jsonl sink\'s path, relative to the pipeline file)', { where: file }).message);
    return EXIT.failure;
  }
  if (!values.latest) {
    const counts = await countLabels(file);
    println(io.stdout, `${file}: ${counts.lines} lines, ${counts.revisions} revisions, ${counts.records} records`);
    return EXIT.ok;
  }
  for await (const { text } of readLatestLabels(file)) {
    if (!io.stdout.write(`${text}\n`)) await new Promise((resolve) => io.stdout.once('drain', resolve));
  }
  return EXIT.ok;
}
