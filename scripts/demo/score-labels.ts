import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { adjustedMutualInfo, adjustedRandIndex, clusteringAccuracy, normalizedMutualInfo } from '../../src/clustering/metrics/index.ts';

export interface LabelScores {
  /** Records scored (those with a ground-truth label). */
  readonly n: number;
  readonly acc: number;
  readonly nmi: number;
  readonly ari: number;
  readonly ami: number;
  readonly clustersUsed: number;
}

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

interface LabelLine {
  readonly id: string;
  readonly cluster: number | null;
  readonly modelVersion: number | null;
  readonly label?: number;
}

/**
 * Scores a jsonl sink's file the way its reader experiences it, independent of the evaluate
 * stage: first emitted and delivered labels per record id against the ground truth the lines
 * carry. An unassigned record (cluster null) counts as a cluster of its own.
 */
export async function scoreLabelsFile(file: string): Promise<LabelsFileScores> {
  const first = new Map<string, LabelLine>();
  const latest = new Map<string, LabelLine>();
  let revisions = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.trim()) continue;
    const line = JSON.parse(text) as LabelLine;
    const seen = latest.get(line.id);
    if (!seen) {
      first.set(line.id, line);
      latest.set(line.id, line);
      continue;
    }
    revisions++;
    if ((line.modelVersion ?? -1) >= (seen.modelVersion ?? -1)) latest.set(line.id, line);
  }
  return { records: latest.size, revisions, firstEmitted: scoresOf([...first.values()]), delivered: scoresOf([...latest.values()]) };
}

function scoresOf(lines: readonly LabelLine[]): LabelScores | undefined {
  const labelled = lines.filter((l) => typeof l.label === 'number');
  if (labelled.length === 0) return undefined;
  const unassigned = Math.max(-1, ...labelled.map((l) => l.cluster ?? -1)) + 1;
  const truth = Int32Array.from(labelled, (l) => l.label!);
  const pred = Int32Array.from(labelled, (l) => l.cluster ?? unassigned);
  const round = (x: number) => Number(x.toFixed(4));
  return {
    n: labelled.length,
    acc: round(clusteringAccuracy(truth, pred)),
    nmi: round(normalizedMutualInfo(truth, pred)),
    ari: round(adjustedRandIndex(truth, pred)),
    ami: round(adjustedMutualInfo(truth, pred)),
    clustersUsed: new Set(pred).size,
  };
}
