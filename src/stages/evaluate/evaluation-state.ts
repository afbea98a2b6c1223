import { clusterSizeEntropy, meanConfidence } from '../../clustering/metrics/index.ts';
import { type StreamRecord } from '../../runtime/contracts/index.ts';
import { GrowableInt32 } from './growable.ts';
import { labelMetrics, type LabelMetrics } from './label-metrics.ts';

/** Scores of one kind of label: over every labelled record so far, and over the last `window`. */
export interface Scores {
  readonly cumulative?: LabelMetrics;
  readonly rolling?: LabelMetrics;
}

export interface EvaluationReport {
  readonly at: number;
  /** Records labelled (first labels; revisions are not records). */
  readonly records: number;
  readonly assigned: number;
  /** Records whose first label had no cluster (no model yet). */
  readonly unassigned: number;
  /** Revised labels seen. */
  readonly revised: number;
  /** Newest model version among the labels seen. */
  readonly modelVersion: number | null;
  /** The first label each record got, as it was emitted. Unassigned records are left out. */
  readonly firstEmitted: Scores;
  /** The latest label per record, revisions included: what a downstream reader of the latest label holds. */
  readonly delivered: Scores;
  readonly health: { readonly clusterSizeEntropy: number; readonly meanConfidence: number; readonly neighbourAgreement?: number };
}

const UNASSIGNED = -1;

/**
 * What the evaluate stage remembers: for every record with ground truth, its first label and its
 * latest (delivered) label, in arrival order, so both can be scored cumulatively and over a
 * rolling window; and, for label-free health, the recent clusters and confidences. Revisions find
 * their record through a bounded map of the most recent labelled ids (`revisable` of them):
 * a revision of an older record leaves its delivered label as it was.
 */
export class EvaluationState {
  private truth = new GrowableInt32();
  private first = new GrowableInt32();
  private delivered = new GrowableInt32();
  private rowOf = new Map<bigint, number>();
  private records = 0;
  private unassigned = 0;
  private revised = 0;
  private recentClusters: number[] = [];
  private recentConfidence: number[] = [];
  private lastVersion: number | null = null;

  constructor(
    private readonly window: number,
    private readonly revisable = 100_000,
  ) {}

  observe(record: StreamRecord): void {
    const a = record.payload.assignment;
    if (a?.revision) return this.observeRevision(record.id, a.cluster, a.modelVersion);
    this.records++;
    if (a?.modelVersion != null) this.lastVersion = Math.max(this.lastVersion ?? 0, a.modelVersion);
    const cluster = a?.cluster ?? null;
    if (cluster === null) this.unassigned++;
    else {
      this.recentClusters.push(cluster);
      this.recentConfidence.push(a!.confidence);
      if (this.recentClusters.length > this.window) {
        this.recentClusters.shift();
        this.recentConfidence.shift();
      }
    }
    if (record.metadata.label === undefined) return;
    this.truth.push(record.metadata.label);
    this.first.push(cluster ?? UNASSIGNED);
    this.delivered.push(cluster ?? UNASSIGNED);
    this.rowOf.delete(record.id);
    this.rowOf.set(record.id, this.truth.length - 1);
    if (this.rowOf.size > this.revisable) this.rowOf.delete(this.rowOf.keys().next().value!);
  }

  private observeRevision(id: bigint, cluster: number | null, version: number | null): void {
    this.revised++;
    if (version !== null) this.lastVersion = Math.max(this.lastVersion ?? 0, version);
    const row = this.rowOf.get(id);
    if (row !== undefined) this.delivered.set(row, cluster ?? UNASSIGNED);
  }

  /** Labelled (first) records seen so far; revisions do not count. */
  get count(): number {
    return this.records;
  }

  get revisions(): number {
    return this.revised;
  }

  report(at: number, numClusters: number, neighbourAgreement?: number): EvaluationReport {
    const from = Math.max(0, this.truth.length - this.window);
    const scores = (pred: GrowableInt32): Scores => ({ cumulative: assignedMetrics(this.truth.view(), pred.view()), rolling: assignedMetrics(this.truth.view(from), pred.view(from)) });
    return {
      at,
      records: this.records,
      assigned: this.records - this.unassigned,
      unassigned: this.unassigned,
      revised: this.revised,
      modelVersion: this.lastVersion,
      firstEmitted: scores(this.first),
      delivered: scores(this.delivered),
      health: {
        clusterSizeEntropy: this.recentClusters.length ? round(clusterSizeEntropy(this.recentClusters, Math.max(numClusters, 1))) : 0,
        meanConfidence: this.recentConfidence.length ? round(meanConfidence(this.recentConfidence)) : 0,
        ...(neighbourAgreement !== undefined ? { neighbourAgreement: round(neighbourAgreement) } : {}),
      },
    };
  }

  snapshot(): unknown {
    return {
      truth: this.truth.toJSON(),
      first: this.first.toJSON(),
      delivered: this.delivered.toJSON(),
      records: this.records,
      unassigned: this.unassigned,
      revised: this.revised,
      lastVersion: this.lastVersion,
    };
  }

  restore(saved: unknown): void {
    // Snapshots from before revisions kept only assigned records, as `pred`.
    const s = saved as { truth: number[]; first?: number[]; delivered?: number[]; pred?: number[]; records: number; unassigned: number; revised?: number; lastVersion: number | null };
    this.truth = GrowableInt32.from(s.truth);
    this.first = GrowableInt32.from(s.first ?? s.pred ?? []);
    this.delivered = GrowableInt32.from(s.delivered ?? s.first ?? s.pred ?? []);
    this.records = s.records;
    this.unassigned = s.unassigned;
    this.revised = s.revised ?? 0;
    this.lastVersion = s.lastVersion;
  }
}

/** Metrics over the rows whose prediction is a cluster (unassigned rows left out). */
function assignedMetrics(truth: Int32Array, pred: Int32Array): LabelMetrics | undefined {
  let n = 0;
  for (const p of pred) if (p !== UNASSIGNED) n++;
  if (n === pred.length) return labelMetrics(truth, pred);
  const t = new Int32Array(n);
  const q = new Int32Array(n);
  let j = 0;
  pred.forEach((p, i) => {
    if (p === UNASSIGNED) return;
    t[j] = truth[i];
    q[j++] = p;
  });
  return labelMetrics(t, q);
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
