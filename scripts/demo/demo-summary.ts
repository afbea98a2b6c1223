import type { LabelsFileScores } from './score-labels.ts';

/** Scores as the evaluate stage and score-labels.ts write them. */
interface Scores {
  readonly n?: number;
  readonly acc: number;
  readonly nmi: number;
  readonly ari: number;
  readonly ami?: number;
  readonly clustersUsed?: number;
}

/** training-summary.json as the train stage writes it. */
export interface TrainingSummary {
  readonly trainer: string;
  readonly backend: string;
  readonly thread: string;
  readonly rounds: number;
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

export interface DemoOutcome {
  readonly data: string;
  readonly seconds: number;
  readonly exitCode: number;
  /** evaluation-final.json, when the run wrote one: the final model's scores. */
  readonly evaluation?: Record<string, unknown>;
  /** The labels file scored as its reader sees it. */
  readonly labels?: LabelsFileScores;
  /** The train stage's training-summary.json, when it wrote one. */
  readonly training?: TrainingSummary;
  readonly reportPath?: string;
  readonly labelsPath: string;
}

/**
 * The closing lines of `npm run demo`: first-emitted and delivered scores of the labels file,
 * the final model's (from the evaluate stage), the wall time and where the report and labels are.
 */
export function demoSummary(outcome: DemoOutcome): string {
  const { labels } = outcome;
  const finalModel = scoresIn(outcome.evaluation?.finalModel);
  const counts = labels ? `${labels.records.toLocaleString('en-US')} records, ${labels.revisions.toLocaleString('en-US')} revised labels, ` : '';
  const lines = [`demo (${outcome.data}): ${counts}${formatSeconds(outcome.seconds)} wall time${outcome.exitCode === 0 ? '' : `, exit code ${outcome.exitCode}`}`];
  if (labels?.firstEmitted) lines.push(`  first emitted  ${describe(labels.firstEmitted)}   (each record's first label)`);
  if (labels?.delivered) lines.push(`  delivered      ${describe(labels.delivered)}   (each record's latest label)`);
  if (finalModel) lines.push(`  final model    ${describe(finalModel)}   (re-applied to the labelled records)`);
  const t = outcome.training;
  if (t && t.rounds > 0) {
    lines.push(`  training       ${t.trainer}: ${t.rounds} round${t.rounds === 1 ? '' : 's'}, ${t.samples.toLocaleString('en-US')} samples in ${formatSeconds(t.seconds)}, ${t.samplesPerSecond.toLocaleString('en-US')} samples/s on ${t.backend} (${t.thread} thread)`);
  }
  if (!labels?.firstEmitted && !finalModel) lines.push('  no scores: no labelled records were written (see the log above)');
  lines.push(`  labels: ${outcome.labelsPath}`);
  if (outcome.reportPath) lines.push(`  report: ${outcome.reportPath}`);
  return lines.join('\n');
}

/** Scores either directly ({acc, ...}) or under `cumulative` ({cumulative: {acc, ...}, rolling}). */
function scoresIn(value: unknown): Scores | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.acc === 'number' && typeof v.nmi === 'number' && typeof v.ari === 'number') return v as unknown as Scores;
  return v.cumulative ? scoresIn(v.cumulative) : undefined;
}

function describe(s: Scores): string {
  const parts = [`ACC ${s.acc.toFixed(3)}`, `NMI ${s.nmi.toFixed(3)}`, `ARI ${s.ari.toFixed(3)}`];
  if (s.ami !== undefined) parts.push(`AMI ${s.ami.toFixed(3)}`);
  if (s.clustersUsed !== undefined) parts.push(`${s.clustersUsed} clusters`);
  return parts.join('  ');
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
