/** What a report shows, gathered from a state dir and a labels file; pure data, no HTML. */

/** ACC/NMI/ARI/AMI over every labelled record so far and over the evaluate stage's rolling window. */
export interface ScorePair {
  readonly cumulative?: Readonly<Record<string, number>>;
  readonly rolling?: Readonly<Record<string, number>>;
}

/** One line of evaluation.jsonl. */
export interface MetricPoint {
  readonly records: number;
  readonly at: number;
  /** The first label each record got. */
  readonly firstEmitted?: ScorePair;
  /** The latest label per record, revisions included. */
  readonly delivered?: ScorePair;
}

export interface ClusterSample {
  readonly key: string;
  readonly confidence: number;
  readonly label?: number;
  readonly origin?: { readonly file?: string; readonly position?: number };
}

export interface ClusterSummary {
  readonly cluster: number;
  readonly size: number;
  /** The most confident members, best first. */
  readonly samples: readonly ClusterSample[];
}

export interface Confusion {
  readonly clusters: readonly number[];
  readonly classes: readonly number[];
  /** counts[i][j]: records of clusters[i] whose ground truth is classes[j]. */
  readonly counts: readonly (readonly number[])[];
  /** Class matched to each row by the Hungarian method, -1 when unmatched. */
  readonly matchedClass: readonly number[];
}

export interface LabelsSummary {
  readonly records: number;
  /** Records whose latest label is a revision. */
  readonly revised: number;
  readonly unassigned: number;
  readonly clusters: readonly ClusterSummary[];
  readonly confusion?: Confusion;
  readonly classNames: ReadonlyMap<number, string>;
}

export interface ReportData {
  readonly title: string;
  readonly stateDir: string;
  readonly labelsFile?: string;
  readonly history: readonly MetricPoint[];
  readonly final?: Readonly<Record<string, unknown>>;
  readonly labels?: LabelsSummary;
  /** data: URIs keyed by sample key; missing keys had no readable image. */
  readonly thumbnails: ReadonlyMap<string, string>;
}
