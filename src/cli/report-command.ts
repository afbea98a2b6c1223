import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadReport, renderReport } from '../report/index.ts';
import { isTemiError } from '../runtime/errors.ts';
import { EXIT, println, type CliIO } from './io.ts';

export const reportHelp = `Usage: temi-stream report <state-dir> [--out report.html] [--pipeline file | --labels file] [--samples N]

Writes one self-contained HTML file: sample images per cluster, cluster sizes, ACC/NMI/ARI over
time (state-dir/evaluation.jsonl) and the confusion matrix against ground truth.

Options:
  --out <file>        where to write (default: <state-dir>/report.html)
  --pipeline <file>   the pipeline that wrote the state; its jsonl sink is the labels file
  --labels <file>     the labels jsonl, when not found through --pipeline
  --samples <N>       images per cluster (default 12)
Exit codes: 0 written, 1 nothing to report, 2 usage.`;

export async function reportCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: 'string' }, pipeline: { type: 'string' }, labels: { type: 'string' }, samples: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    println(values.help ? io.stdout : io.stderr, reportHelp);
    return values.help ? EXIT.ok : EXIT.invalid;
  }
  const samples = values.samples === undefined ? 12 : Number(values.samples);
  if (!Number.isInteger(samples) || samples < 0) {
    println(io.stderr, `--samples must be a whole number, got "${values.samples}"`);
    return EXIT.invalid;
  }
  const stateDir = positionals[0];
  try {
    const data = await loadReport({ stateDir, pipelineFile: values.pipeline, labelsFile: values.labels, samplesPerCluster: samples });
    const out = resolve(values.out ?? resolve(stateDir, 'report.html'));
    await writeFile(out, renderReport(data));
    println(io.stdout, `report written to ${out} (${data.labels?.clusters.length ?? 0} clusters, ${data.history.length} evaluations, ${data.thumbnails.size} thumbnails)`);
    return EXIT.ok;
  } catch (error) {
    if (!isTemiError(error)) throw error;
    println(io.stderr, error.message);
    return EXIT.failure;
  }
}
