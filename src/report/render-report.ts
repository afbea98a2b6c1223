import type { Confusion, MetricPoint, ReportData, ScorePair } from './report-data.ts';
import { barChart, escapeXml, lineChart, type Series } from './svg-charts.ts';

/** Section ids, stable so tests and links can find them. */
export const REPORT_SECTIONS = ['summary', 'montage', 'cluster-sizes', 'metrics', 'confusion'] as const;

const METRICS = [
  { key: 'acc', name: 'ACC', colour: '#d1495b' },
  { key: 'nmi', name: 'NMI', colour: '#3b6fb6' },
  { key: 'ari', name: 'ARI', colour: '#2a9d5c' },
] as const;

const CSS = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin:0 0 8px}section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:16px 0}
.note{color:#666;font-size:13px}.row{display:flex;align-items:center;gap:4px;margin:4px 0}
.row .cid{width:110px;font-size:13px}.row img,.row .missing{width:48px;height:48px;image-rendering:pixelated;border:1px solid #ccc;background:#eee}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
td.match{outline:2px solid #d1495b}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}dt{color:#666}`;

/** The whole report as one self-contained HTML document. */
export function renderReport(data: ReportData): string {
  const body = [summary(data), montage(data), clusterSizes(data), metrics(data.history), confusion(data)].join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>temi-stream report: ${escapeXml(data.title)}</title><style>${CSS}</style></head><body><h1>temi-stream report: ${escapeXml(data.title)}</h1>\n${body}\n</body></html>\n`;
}

function section(id: string, title: string, content: string): string {
  return `<section id="${id}"><h2>${escapeXml(title)}</h2>${content}</section>`;
}

function summary(data: ReportData): string {
  const final = data.final as
    | { records?: number; revised?: number; modelVersion?: number; cumulative?: Record<string, number>; firstEmitted?: ScorePair; delivered?: ScorePair; finalModel?: Record<string, number> }
    | undefined;
  const rows: [string, string][] = [['state dir', data.stateDir]];
  if (data.labelsFile) rows.push(['labels file', data.labelsFile]);
  if (data.labels) {
    rows.push(['labelled records', `${data.labels.records} (${data.labels.unassigned} unassigned, ${data.labels.revised} hold a revised label)`], ['clusters used', String(data.labels.clusters.length)]);
  }
  if (final?.records != null) rows.push(['records evaluated', `${final.records}${final.revised != null ? ` (${final.revised} revisions)` : ''}`]);
  if (final?.modelVersion != null) rows.push(['model version', String(final.modelVersion)]);
  const firstEmitted = final?.firstEmitted?.cumulative ?? final?.cumulative;
  if (firstEmitted) rows.push(['first emitted (cumulative)', formatMetrics(firstEmitted)]);
  if (final?.delivered?.cumulative) rows.push(['delivered (cumulative)', formatMetrics(final.delivered.cumulative)]);
  if (final?.finalModel) rows.push(['final model', formatMetrics(final.finalModel)]);
  return section('summary', 'Summary', `<dl>${rows.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('')}</dl>`);
}

function formatMetrics(m: Record<string, number>): string {
  return ['acc', 'nmi', 'ari', 'ami'].filter((k) => typeof m[k] === 'number').map((k) => `${k.toUpperCase()} ${m[k].toFixed(3)}`).join(', ');
}

function montage(data: ReportData): string {
  if (!data.labels) return section('montage', 'Samples per cluster', '<p class="note">No labels file: run with --labels or --pipeline.</p>');
  const names = data.labels.classNames;
  const rows = data.labels.clusters.map((c) => {
    const tiles = c.samples.map((s) => {
      const title = escapeXml(`${s.key} conf ${s.confidence.toFixed(3)}${s.label !== undefined ? ` class ${names.get(s.label) ?? s.label}` : ''}`);
      const uri = data.thumbnails.get(s.key);
      return uri ? `<img src="${uri}" alt="${title}" title="${title}">` : `<span class="missing" title="${title}"></span>`;
    });
    return `<div class="row"><span class="cid">cluster ${c.cluster} (${c.size})</span>${tiles.join('')}</div>`;
  });
  return section('montage', 'Samples per cluster (most confident first)', rows.join(''));
}

function clusterSizes(data: ReportData): string {
  if (!data.labels || data.labels.clusters.length === 0) return section('cluster-sizes', 'Cluster sizes', '<p class="note">No assigned records.</p>');
  return section('cluster-sizes', 'Cluster sizes', barChart(data.labels.clusters.map((c) => ({ label: String(c.cluster), value: c.size })), { id: 'cluster-sizes-chart' }));
}

/** The two kinds of labels a run is scored on: delivered solid, first emitted dashed. */
const LABEL_KINDS = [
  { key: 'delivered', name: 'delivered', dashed: false },
  { key: 'firstEmitted', name: 'first', dashed: true },
] as const;

function metrics(history: readonly MetricPoint[]): string {
  const scored = (p: MetricPoint) => typeof p.firstEmitted?.cumulative?.acc === 'number' || typeof p.delivered?.cumulative?.acc === 'number';
  const withLabels = history.filter(scored);
  if (withLabels.length === 0) return section('metrics', 'Metrics over time', '<p class="note">No labelled evaluations recorded (evaluation.jsonl).</p>');
  const series = (scope: keyof ScorePair): Series[] =>
    LABEL_KINDS.flatMap((kind) =>
      METRICS.map((m) => ({
        name: `${m.name} ${kind.name}`,
        colour: m.colour,
        dashed: kind.dashed,
        points: withLabels.filter((p) => typeof p[kind.key]?.[scope]?.[m.key] === 'number').map((p) => [p.records, p[kind.key]![scope]![m.key]] as const),
      })),
    );
  const note = '<p class="note">Solid: delivered labels (the latest label per record, revisions included). Dashed: labels as first emitted.</p>';
  return section('metrics', 'Metrics over time',
    `${note}<h3>Cumulative</h3>${lineChart(series('cumulative'), { id: 'metrics-cumulative', yMax: 1 })}<h3>Rolling window</h3>${lineChart(series('rolling'), { id: 'metrics-rolling', yMax: 1 })}`);
}

function confusion(data: ReportData): string {
  const c: Confusion | undefined = data.labels?.confusion;
  if (!c) return section('confusion', 'Confusion against ground truth', '<p class="note">The records carried no ground-truth labels.</p>');
  const names = data.labels?.classNames ?? new Map<number, string>();
  const max = Math.max(1, ...c.counts.flat());
  const head = `<tr><th>cluster \\ class</th>${c.classes.map((k) => `<th>${escapeXml(names.get(k) ?? String(k))}</th>`).join('')}<th>matched</th></tr>`;
  const rows = c.clusters.map((cluster, i) => {
    const cells = c.counts[i].map((n, j) => {
      const shade = Math.round(255 - (n / max) * 180);
      const match = c.classes[j] === c.matchedClass[i] ? ' class="match"' : '';
      return `<td${match} style="background:rgb(${shade},${shade},255)">${n}</td>`;
    });
    const matched = c.matchedClass[i] >= 0 ? escapeXml(names.get(c.matchedClass[i]) ?? String(c.matchedClass[i])) : '-';
    return `<tr><th>${cluster}</th>${cells.join('')}<td>${matched}</td></tr>`;
  });
  return section('confusion', 'Confusion against ground truth (rows in Hungarian-matched order)', `<table id="confusion-table">${head}${rows.join('')}</table>`);
}
