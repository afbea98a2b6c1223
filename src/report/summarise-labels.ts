import { basename, dirname } from 'node:path';
import { solveLinearAssignment } from '../clustering/hungarian.ts';
import type { ClusterSample, ClusterSummary, Confusion, LabelsSummary } from './report-data.ts';

/** One line of a jsonl labels file, as far as the report reads it. */
export interface LabelLine {
  readonly key?: string;
  readonly id?: string;
  readonly cluster?: number | null;
  readonly confidence?: number;
  readonly label?: number;
  readonly modelVersion?: number | null;
  readonly revision?: boolean;
  readonly origin?: { readonly file?: string; readonly position?: number };
}

/**
 * Folds label lines (one per record: the latest, see readLatestLabels) into cluster sizes, the most confident samples per cluster and the
 * clusters x classes confusion; one pass, memory bounded by clusters x samples, so a 1M-line
 * file is fine.
 */
export class LabelsAccumulator {
  private records = 0;
  private unassigned = 0;
  private revised = 0;
  private readonly sizes = new Map<number, number>();
  private readonly samples = new Map<number, ClusterSample[]>();
  private readonly counts = new Map<number, Map<number, number>>();
  private readonly folderClassNames = new Map<number, string>();

  constructor(private readonly samplesPerCluster: number) {}

  add(line: LabelLine): void {
    this.records++;
    if (line.revision === true) this.revised++;
    const cluster = line.cluster;
    if (typeof cluster !== 'number' || !Number.isInteger(cluster)) {
      this.unassigned++;
      return;
    }
    this.sizes.set(cluster, (this.sizes.get(cluster) ?? 0) + 1);
    this.keepIfConfident(cluster, {
      key: line.key ?? line.id ?? `#${this.records}`,
      confidence: Number.isFinite(line.confidence) ? (line.confidence as number) : 0,
      label: line.label,
      origin: line.origin,
    });
    if (typeof line.label === 'number') {
      const row = this.counts.get(cluster) ?? new Map<number, number>();
      row.set(line.label, (row.get(line.label) ?? 0) + 1);
      this.counts.set(cluster, row);
      // Folder sources label by parent folder: that folder's name is the class's name.
      const file = line.origin?.file;
      if (file && !this.folderClassNames.has(line.label) && !/ubyte|\.idx/i.test(file)) this.folderClassNames.set(line.label, basename(dirname(file)));
    }
  }

  summary(knownClassNames: readonly string[] = []): LabelsSummary {
    const clusters: ClusterSummary[] = [...this.sizes.keys()]
      .sort((a, b) => a - b)
      .map((cluster) => ({ cluster, size: this.sizes.get(cluster) ?? 0, samples: this.samples.get(cluster) ?? [] }));
    const classNames = new Map<number, string>();
    knownClassNames.forEach((name, i) => classNames.set(i, name));
    for (const [label, name] of this.folderClassNames) if (!classNames.has(label)) classNames.set(label, name);
    return { records: this.records, revised: this.revised, unassigned: this.unassigned, clusters, confusion: this.confusion(clusters.map((c) => c.cluster)), classNames };
  }

  private keepIfConfident(cluster: number, sample: ClusterSample): void {
    const kept = this.samples.get(cluster) ?? [];
    if (kept.length >= this.samplesPerCluster && kept[kept.length - 1].confidence >= sample.confidence) return;
    let at = kept.length;
    while (at > 0 && kept[at - 1].confidence < sample.confidence) at--;
    kept.splice(at, 0, sample);
    if (kept.length > this.samplesPerCluster) kept.pop();
    this.samples.set(cluster, kept);
  }

  private confusion(clusterIds: number[]): Confusion | undefined {
    if (this.counts.size === 0) return undefined;
    const classes = [...new Set([...this.counts.values()].flatMap((row) => [...row.keys()]))].sort((a, b) => a - b);
    const table = clusterIds.map((c) => classes.map((k) => this.counts.get(c)?.get(k) ?? 0));
    const matched = solveLinearAssignment(table.flat(), clusterIds.length, classes.length, 'maximise').rowToColumn;
    // Rows sorted by their matched class, so a good clustering shows a bright diagonal.
    const order = clusterIds.map((_, i) => i).sort((a, b) => rank(matched[a], classes.length) - rank(matched[b], classes.length) || clusterIds[a] - clusterIds[b]);
    return {
      clusters: order.map((i) => clusterIds[i]),
      classes,
      counts: order.map((i) => table[i]),
      matchedClass: order.map((i) => (matched[i] >= 0 ? classes[matched[i]] : -1)),
    };
  }
}

function rank(column: number, columns: number): number {
  return column >= 0 ? column : columns;
}
