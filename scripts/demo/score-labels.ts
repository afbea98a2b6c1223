import { identity, parsedLines, readLatestLabels, type LabelLineIdentity } from '../../src/report/latest-labels.ts';
import { labelMetrics, type LabelMetrics } from '../../src/stages/evaluate/label-metrics.ts';

/** The evaluate stage's scores, here of a labels file's lines. */
export type LabelScores = LabelMetrics;

export interface LabelsFileScores {
  /** Distinct record ids in the file. */
  readonly records: number;
  /** Label lines that revised an earlier one. */
  readonly revisions: number;
  /** Each record's first line, as a consumer saw it the moment it was emitted. */
  readonly firstEmitted?: LabelScores;
  /** Each record's latest line (highest modelVersion, later line on a tie): what a consumer ends up with. */
  readonly delivered?: LabelScores;
}

interface LabelLine extends LabelLineIdentity {
  readonly cluster: number | null;
  readonly label?: number;
}

/**
 * Scores a jsonl sink's file the way its reader experiences it, independent of the evaluate
 * stage: first emitted and delivered labels per record against the ground truth the lines carry,
 * "delivered" chosen by the same rule `temi-stream labels --latest` applies. An unassigned record
 * (cluster null) counts as a cluster of its own.
 */
export async function scoreLabelsFile(file: string): Promise<LabelsFileScores> {
  const first = new Map<string, LabelLine>();
  let n = 0;
  let revisions = 0;
  for await (const { line } of parsedLines<LabelLine>(file)) {
    const id = identity(line, n++);
    if (!first.has(id)) first.set(id, line);
    if (line.revision === true) revisions++;
  }
  const latest: LabelLine[] = [];
  for await (const { line } of readLatestLabels<LabelLine>(file)) latest.push(line);
  return { records: first.size, revisions, firstEmitted: scoresOf([...first.values()]), delivered: scoresOf(latest) };
}

function scoresOf(lines: readonly LabelLine[]): LabelScores | undefined {
  const labelled = lines.filter((l) => typeof l.label === 'number');
  if (labelled.length === 0) return undefined;
  // A fold, not Math.max(...): spreading a 100k-record file's clusters overflows the call stack.
  const unassigned = labelled.reduce((top, l) => Math.max(top, l.cluster ?? -1), -1) + 1;
  return labelMetrics(
    Int32Array.from(labelled, (l) => l.label!),
    Int32Array.from(labelled, (l) => l.cluster ?? unassigned),
  );
}
