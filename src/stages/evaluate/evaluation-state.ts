import { clusterSizeEntropy, meanConfidence } from '../../clustering/metrics/index.ts';
import { type StreamRecord } from '../../runtime/contracts/index.ts';
import { GrowableInt32 } from './growable.ts';
import { labelMetrics, type LabelMetrics } from './label-metrics.ts';

export interface EvaluationReport {
  readonly at: number;
  readonly records: number;
  readonly assigned: number;
  readonly unassigned: number;
  readonly modelVersion: number | null;
  /** Labels as they were emitted, over every labelled record so far. */
  readonly cumulative?: LabelMetrics;
  /** The same over the last `window` labelled records. */
  readonly rolling?: LabelMetrics;
  readonly health: { readonly clusterSizeEntropy: number; readonly meanConfidence: number; readonly neighbourAgreement?: number };
}

/**
 * What the evaluate stage remembers: emitted labels against ground truth (cumulative and a
 * rolling window) and, for label-free health, the recent clusters and confidences.
 */
export class EvaluationState {
  private truth = new GrowableInt32();
  private pred = new GrowableInt32();
  private records = 0;
  private unassigned = 0;
  private recentClusters: number[] = [];
  private recentConfidence: number[] = [];
  private lastVersion: number | null = null;

  constructor(private readonly window: number) {}

  observe(record: StreamRecord): void {
    this.records++;
    const a = record.payload.assignment;
    if (!a || a.cluster === null) {
      this.unassigned++;
      return;
    }
    this.lastVersion = a.modelVersion;
    this.recentClusters.push(a.cluster);
    this.recentConfidence.push(a.confidence);
    if (this.recentClusters.length > this.window) {
      this.recentClusters.shift();
      this.recentConfidence.shift();
    }
    if (record.metadata.label !== undefined) {
      this.truth.push(record.metadata.label);
      this.pred.push(a.cluster);
    }
  }

  get count(): number {
    return this.records;
  }

  report(at: number, numClusters: number, neighbourAgreement?: number): EvaluationReport {
    const n = this.truth.length;
    const from = Math.max(0, n - this.window);
    return {
      at,
      records: this.records,
      assigned: this.records - this.unassigned,
      unassigned: this.unassigned,
      modelVersion: this.lastVersion,
      cumulative: labelMetrics(this.truth.view(), this.pred.view()),
      rolling: labelMetrics(this.truth.view(from), this.pred.view(from)),
      health: {
        clusterSizeEntropy: this.recentClusters.length ? round(clusterSizeEntropy(this.recentClusters, Math.max(numClusters, 1))) : 0,
        meanConfidence: this.recentConfidence.length ? round(meanConfidence(this.recentConfidence)) : 0,
        ...(neighbourAgreement !== undefined ? { neighbourAgreement: round(neighbourAgreement) } : {}),
      },
    };
  }

  snapshot(): unknown {
    return { truth: this.truth.toJSON(), pred: this.pred.toJSON(), records: this.records, unassigned: this.unassigned, lastVersion: this.lastVersion };
  }

  restore(saved: unknown): void {
    const s = saved as { truth: number[]; pred: number[]; records: number; unassigned: number; lastVersion: number | null };
    this.truth = GrowableInt32.from(s.truth);
    this.pred = GrowableInt32.from(s.pred);
    this.records = s.records;
    this.unassigned = s.unassigned;
    this.lastVersion = s.lastVersion;
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
