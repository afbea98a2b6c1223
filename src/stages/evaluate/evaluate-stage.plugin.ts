import { tap } from 'rxjs';
import { neighbourAgreement } from '../../clustering/metrics/index.ts';
import { clusteringServices, type ModelRegistry, type NeighbourIndex, definePlugin, services, type Logger, type Metrics, reasonOf, s } from '../../runtime/contracts/index.ts';
import { LabelledSample } from './labelled-sample.ts';
import { JsonlWriter } from '../jsonl/jsonl-writer.ts';
import { EvaluationState, type EvaluationReport, type Scores } from './evaluation-state.ts';
import { labelMetrics, type LabelMetrics } from './label-metrics.ts';

export const evaluateStagePlugin = definePlugin({
  name: 'evaluate',
  kind: 'stage',
  description:
    'Scores assignments as they stream: with ground-truth labels, rolling and cumulative ACC (Hungarian), NMI, ARI, AMI of the labels as first emitted and as delivered (the latest label per record, revisions included); always, label-free health (cluster-size entropy, mean confidence, neighbour agreement). Writes a JSON report per evaluation and a final report that also scores the final model; the run\'s last log line carries the final firstEmitted and delivered scores.',
  configSchema: s.object({
    every: s.optional(s.integer({ min: 1, description: 'Records between evaluations. Default: a fifteenth of what a finite source says it holds (at least 100), else 1000.' })),
    everySeconds: s.optional(s.number({ exclusiveMin: 0, description: 'Also evaluate this often while anything new (a record, a revision) arrived.' })),
    revisable: s.integer({ min: 0, default: 100_000, description: 'Most recent labelled records whose revisions update the delivered score; keep it at least assign\'s revisions.window.' }),
    window: s.integer({ min: 1, default: 2000, description: 'Size of the rolling window.' }),
    reportFile: s.string({ minLength: 1, default: 'evaluation.jsonl', description: 'Reports, one JSON line each, in the state directory.' }),
    finalSample: s.integer({ min: 0, default: 20_000, description: 'Labelled records (uniform sample) the final model is re-scored on at the end (0: skip).' }),
    neighbours: s.integer({ min: 0, default: 10, description: 'k for neighbour agreement (0: skip).' }),
    print: s.boolean({ default: true, description: 'Also print a one-line summary per evaluation to stderr.' }),
  }),
  deps: { registry: clusteringServices.modelRegistry, index: clusteringServices.vectorIndex, state: services.state, logger: services.logger, metrics: services.metrics, pipeline: services.pipeline },
  create({ config, deps, instanceName }) {
    const evaluation = new EvaluationState(config.window, config.revisable);
    const writer = new JsonlWriter(deps.state.path(config.reportFile), true);
    const logger = deps.logger.child({ stage: instanceName });
    let pending: Promise<void> = Promise.resolve();
    const recentIds: { id: bigint; cluster: number }[] = [];
    // How many times each id is in recentIds, so a revision of an older record skips the scan.
    const recentCount = new Map<bigint, number>();
    const sample = new LabelledSample(config.finalSample, 7);
    let every: number | undefined = config.every;
    // Read at the first record: a finite source knows its size once it is open, after start.
    const everyRecords = (): number => {
      const expected = deps.pipeline.expectedRecords;
      every ??= expected !== undefined && expected > 0 ? Math.max(100, Math.ceil(expected / 15)) : 1000;
      return every;
    };
    let finalReport: EvaluationReport | undefined;
    let timer: NodeJS.Timeout | undefined;
    let seenAtLastEvaluation = 0;

    const evaluateNow = () => {
      // Scored now, at this record: only the neighbour agreement (an index query) is awaited, so
      // a burst of records does not push every evaluation to the end of the stream.
      const report = evaluation.report(Date.now(), deps.registry.current()?.model.numClusters ?? 0);
      const recent = recentIds.slice(-Math.min(config.window, 1000));
      seenAtLastEvaluation = evaluation.count + evaluation.revisions;
      pending = pending.then(async () => {
        const agreement = config.neighbours > 0 ? await neighbourAgreementOf(recent, deps.index, config.neighbours).catch(() => undefined) : undefined;
        const full = agreement === undefined ? report : { ...report, health: { ...report.health, neighbourAgreement: Math.round(agreement * 1e4) / 1e4 } };
        await writer.write([JSON.stringify(full)]);
        publish(full, deps.metrics);
        if (config.print) process.stderr.write(`${describe(full)}\n`);
        logger.debug('evaluation', { ...full });
      });
    };

    return {
      async start() {
        await writer.open(true);
        if (config.everySeconds !== undefined) {
          timer = setInterval(() => {
            if (evaluation.count + evaluation.revisions > seenAtLastEvaluation) evaluateNow();
          }, config.everySeconds * 1000);
          timer.unref();
        }
      },
      operator: tap((record) => {
        evaluation.observe(record);
        const a = record.payload.assignment;
        if (a?.revision) {
          if (a.cluster !== null && recentCount.has(record.id)) reviseRecent(recentIds, record.id, a.cluster);
          return;
        }
        if (record.metadata.label !== undefined && record.payload.embedding) sample.offer(record.payload.embedding, record.metadata.label);
        if (a && a.cluster !== null) {
          recentIds.push({ id: record.id, cluster: a.cluster });
          recentCount.set(record.id, (recentCount.get(record.id) ?? 0) + 1);
          if (recentIds.length > config.window) {
            const { id } = recentIds.shift()!;
            const left = recentCount.get(id)! - 1;
            if (left === 0) recentCount.delete(id);
            else recentCount.set(id, left);
          }
        }
        if (evaluation.count % everyRecords() === 0) evaluateNow();
      }),
      async drain() {
        clearInterval(timer);
        // A last point for what arrived since the last one (the final revision pass included).
        if (evaluation.count + evaluation.revisions > seenAtLastEvaluation) evaluateNow();
        await pending;
        const finalModel = scoreFinalModel(deps.registry, sample, logger);
        const report = { ...evaluation.report(Date.now(), deps.registry.current()?.model.numClusters ?? 0), finalModel };
        finalReport = report;
        await deps.state.writeJson('evaluation-final.json', report);
        if (config.print) process.stderr.write(`final: ${describe(report)}${finalModel ? ` | final model v${deps.registry.current()?.version} on ${finalModel.n} indexed records: ${metricsText(finalModel)}` : ''}\n`);
        logger.info('final evaluation', { ...report });
      },
      // The run's last log line ("pipeline finished") carries both final scores.
      summary: () => (finalReport ? { firstEmitted: finalReport.firstEmitted.cumulative ?? null, delivered: finalReport.delivered.cumulative ?? null } : undefined),
      snapshot: () => evaluation.snapshot(),
      restore: (saved) => evaluation.restore(saved),
      stop: () => {
        clearInterval(timer);
        return writer.close();
      },
    };
  },
});

async function neighbourAgreementOf(recent: { id: bigint; cluster: number }[], index: NeighbourIndex, k: number): Promise<number | undefined> {
  if (recent.length < 2 || index.size <= k) return undefined;
  const set = await index.trainingSet(k, { maxRows: Math.min(index.size, 2000) });
  const clusterOf = new Map(recent.map((r) => [r.id, r.cluster]));
  // Rows of the mined set whose cluster we know; neighbours outside that set are marked -1.
  const pred = Int32Array.from(set.keys, (key) => clusterOf.get(key) ?? -1);
  const known = pred.filter((p) => p >= 0).length;
  if (known < 2) return undefined;
  return neighbourAgreementKnown(pred, set.neighbours.indices, set.neighbours.k);
}

/** Agreement over rows with a known cluster, counting only neighbours with a known cluster. */
function neighbourAgreementKnown(pred: Int32Array, indices: Int32Array, k: number): number {
  const rows: number[] = [];
  const table: number[] = [];
  const remap = new Map<number, number>();
  pred.forEach((p, i) => {
    if (p >= 0) remap.set(i, remap.size);
  });
  for (const [row] of remap) {
    rows.push(pred[row]);
    for (let j = 0; j < k; j++) {
      const n = indices[row * k + j];
      table.push(n >= 0 && remap.has(n) ? remap.get(n)! : -1);
    }
  }
  return neighbourAgreement(Int32Array.from(rows), { k, indices: Int32Array.from(table) });
}

/** Re-applies the final model to the kept sample of labelled records (the "report the final model" figure). */
function scoreFinalModel(registry: ModelRegistry, sample: LabelledSample, logger: Logger): (LabelMetrics & { note: string }) | undefined {
  const published = registry.current();
  if (!published || sample.size === 0) return undefined;
  try {
    const { embeddings, labels, count } = sample.matrix(published.model.dim);
    const pred = published.model.assign(embeddings, count).cluster;
    const m = labelMetrics(labels, pred);
    return m ? { ...m, note: 'final model re-applied to a uniform sample of the labelled records' } : undefined;
  } catch (error) {
    logger.warn('could not score the final model', { reason: reasonOf(error) });
    return undefined;
  }
}

/** Keeps the neighbour-agreement sample on the delivered labels. */
function reviseRecent(recent: { id: bigint; cluster: number }[], id: bigint, cluster: number): void {
  for (let i = recent.length - 1; i >= 0; i--) {
    if (recent[i].id !== id) continue;
    recent[i] = { id, cluster };
    return;
  }
}

function publish(report: EvaluationReport, metrics: Metrics): void {
  const g = metrics.gauge('temi_evaluation', 'Latest evaluation figures; labels: first_emitted or delivered (latest label per record)', ['labels', 'scope', 'metric']);
  for (const [labels, scores] of [['first_emitted', report.firstEmitted], ['delivered', report.delivered]] as const) {
    for (const [scope, m] of [['cumulative', scores.cumulative], ['rolling', scores.rolling]] as const) {
      if (!m) continue;
      g.set(m.acc, { labels, scope, metric: 'acc' });
      g.set(m.nmi, { labels, scope, metric: 'nmi' });
      g.set(m.ari, { labels, scope, metric: 'ari' });
      g.set(m.ami, { labels, scope, metric: 'ami' });
    }
  }
  g.set(report.health.clusterSizeEntropy, { labels: 'first_emitted', scope: 'health', metric: 'cluster_size_entropy' });
  g.set(report.health.meanConfidence, { labels: 'first_emitted', scope: 'health', metric: 'mean_confidence' });
  if (report.health.neighbourAgreement !== undefined) g.set(report.health.neighbourAgreement, { labels: 'delivered', scope: 'health', metric: 'neighbour_agreement' });
}

function metricsText(m: LabelMetrics): string {
  return `ACC ${m.acc.toFixed(3)} NMI ${m.nmi.toFixed(3)} ARI ${m.ari.toFixed(3)} AMI ${m.ami.toFixed(3)} (${m.clustersUsed} clusters used)`;
}

function describe(r: EvaluationReport): string {
  const parts = [`evaluation @${r.records} records (model v${r.modelVersion ?? '-'}, ${r.unassigned} unassigned, ${r.revised} revised)`];
  const scores = (name: string, s: Scores) => {
    if (s.cumulative) parts.push(`${name} ${metricsText(s.cumulative)}`);
    if (s.rolling) parts.push(`${name}, rolling ${metricsText(s.rolling)}`);
  };
  scores('first emitted', r.firstEmitted);
  scores('delivered', r.delivered);
  parts.push(`entropy ${r.health.clusterSizeEntropy.toFixed(3)} confidence ${r.health.meanConfidence.toFixed(3)}${r.health.neighbourAgreement !== undefined ? ` neighbour-agreement ${r.health.neighbourAgreement.toFixed(3)}` : ''}`);
  return parts.join(' | ');
}

