import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { readLatestLabels } from './latest-labels.ts';
import { FASHION_MNIST_CLASS_NAMES } from '../datasets/index.ts';
import { TemiError } from '../runtime/errors.ts';
import type { MetricPoint, ReportData } from './report-data.ts';
import { LabelsAccumulator, type LabelLine } from './summarise-labels.ts';
import { renderThumbnails } from './thumbnails.ts';

export interface ReportInputs {
  readonly stateDir: string;
  /** The labels jsonl; found from the pipeline file's jsonl sink when absent. */
  readonly labelsFile?: string;
  readonly pipelineFile?: string;
  readonly samplesPerCluster?: number;
}

/** Reads everything a report shows; fails with a coded error when the state dir holds no run. */
export async function loadReport(inputs: ReportInputs): Promise<ReportData> {
  const stateDir = resolve(inputs.stateDir);
  if (!existsSync(stateDir)) throw new TemiError('TS_ERR_REPORT_NO_STATE', `state dir ${stateDir} does not exist`, { where: stateDir });
  const pipeline = inputs.pipelineFile ? await readPipeline(inputs.pipelineFile) : undefined;
  const history = await readHistory(resolve(stateDir, 'evaluation.jsonl'));
  const final = await readJson(resolve(stateDir, 'evaluation-final.json'));
  const labelsFile = inputs.labelsFile ? resolve(inputs.labelsFile) : (pipeline?.labelsFile ?? (await recordedLabelsFile(stateDir)));
  if (history.length === 0 && !final && !labelsFile) {
    throw new TemiError('TS_ERR_REPORT_NOTHING', `${stateDir} holds no evaluation.jsonl or evaluation-final.json, and no labels file was given (--labels or --pipeline)`, { where: stateDir });
  }
  let labels;
  let thumbnails = new Map<string, string>();
  if (labelsFile) {
    if (!existsSync(labelsFile)) throw new TemiError('TS_ERR_REPORT_NO_LABELS', `labels file ${labelsFile} does not exist`, { where: labelsFile });
    const acc = new LabelsAccumulator(inputs.samplesPerCluster ?? 12);
    // Revised labels are appended as lines of their own: the report shows each record's latest.
    for await (const { line } of readLatestLabels<LabelLine>(labelsFile)) acc.add(line);
    const anyFile = (await firstOriginFile(labelsFile)) ?? '';
    labels = acc.summary(/fashion/i.test(anyFile) ? FASHION_MNIST_CLASS_NAMES : []);
    thumbnails = await renderThumbnails(labels.clusters.flatMap((c) => c.samples));
  }
  return { title: pipeline?.name ?? basename(stateDir), stateDir, labelsFile, history, final, labels, thumbnails };
}

async function readPipeline(file: string): Promise<{ name?: string; labelsFile?: string }> {
  const spec = (await readJson(resolve(file))) as { name?: string; sink?: { use?: string; with?: { path?: string } } } | undefined;
  if (!spec) throw new TemiError('TS_ERR_REPORT_PIPELINE', `cannot read pipeline file ${file}`, { where: file });
  const sinkPath = spec.sink?.use === 'jsonl' ? spec.sink.with?.path : undefined;
  return { name: spec.name, labelsFile: sinkPath ? resolve(dirname(resolve(file)), sinkPath) : undefined };
}

/** `report-inputs.json` in the state dir, when the runtime records where the labels went. */
async function recordedLabelsFile(stateDir: string): Promise<string | undefined> {
  const recorded = (await readJson(resolve(stateDir, 'report-inputs.json'))) as { labels?: string } | undefined;
  return recorded?.labels ? resolve(stateDir, recorded.labels) : undefined;
}

async function readHistory(file: string): Promise<MetricPoint[]> {
  if (!existsSync(file)) return [];
  const points: MetricPoint[] = [];
  for await (const line of readLines(file)) {
    const p = line as unknown as MetricPoint & { cumulative?: Record<string, number>; rolling?: Record<string, number> };
    if (typeof p.records !== 'number') continue;
    // Lines written before revisions existed scored the labels as emitted, at the top level.
    points.push(p.firstEmitted || p.delivered ? p : { records: p.records, at: p.at, firstEmitted: { cumulative: p.cumulative, rolling: p.rolling } });
  }
  return points;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Parsed lines; a torn or non-JSON line (a run killed mid-write) is skipped, not fatal. */
async function* readLines(file: string): AsyncGenerator<LabelLine> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.trim()) continue;
    try {
      yield JSON.parse(text) as LabelLine;
    } catch {
      continue;
    }
  }
}

async function firstOriginFile(file: string): Promise<string | undefined> {
  for await (const line of readLines(file)) if (line.origin?.file) return line.origin.file;
  return undefined;
}
