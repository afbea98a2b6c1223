import { tap } from 'rxjs';
import { neighbourAgreement } from '../../clustering/metrics/index.ts';
import { clusteringServices, type ModelRegistry, type NeighbourIndex, definePlugin, services, type Logger, type Metrics, reasonOf, s } from '../../runtime/contracts/index.ts';
import { LabelledSample } from './labelled-sample.ts';
import { JsonlWriter } from '../jsonl/jsonl-writer.ts';
import { EvaluationState, type EvaluationReport } from './evaluation-state.ts';
import { labelMetrics, type LabelMetrics } from './label-metrics.ts';

export const evaluateStagePlugin = definePlugin({
  name: 'evaluate',
  kind: 'stage',
  description:
    'Scores assignments as they stream: with ground-truth labels, rolling and cumulative ACC (Hungarian), NMI, ARI, AMI; always, label-free health (cluster-size entropy, mean confidence, neighbour agreement). Writes a JSON report per evaluation and a final report that also scores the final model.',
  configSchema: s.object({
    every: s.integer({ min: 1, default: 1000, description: 'Records between evaluations.' }),
    window: s.integer({ min: 1, default: 2000, description: 'Size of the rolling window.' }),
    reportFile: s.string({ minLength: 1, default: 'evaluation.jsonl', description: 'Reports, one JSON line each, in the state directory.' }),
    finalSample: s.integer({ min: 0, default: 20_000, description: 'Labelled records (uniform sample) the final model is re-scored on at the end (0: skip).' }),
    neighbours: s.integer({ min: 0, default: 10, description: 'k for neighbour agreement (0: skip).' }),
    print: s.boolean({ default: true, description: 'Also print a one-line summary per evaluation to stderr.' }),
  }),
  deps: { registry: clusteringServices.modelRegistry, index: clusteringServices.vectorIndex, state: services.state, logger: services.logger, metrics: services.metrics },
  create({ config, deps, instanceName }) {
    const evaluation = new EvaluationState(config.window);
    const writer = new JsonlWriter(deps.state.path(config.reportFile), true);
    const logger = deps.logger.child({ stage: instanceName });
    let pending: Promise<void> = Promise.resolve();
    const recentIds: { id: bigint; cluster: number }[] = [];
    const sample = new LabelledSample(config.finalSample, 7);

    const evaluateNow = () => {
      pending = pending.then(async () => {
        const agreement = config.neighbours > 0 ? await neighbourAgreementOf(recentIds.slice(-Math.min(config.window, 1000)), deps.index, config.neighbours).catch(() => undefined) : undefined;
        const report = evaluation.report(Date.now(), deps.registry.current()?.model.numClusters ?? 0, agreement);
        await writer.write([JSON.stringify(report)]);
        publish(report, deps.metrics);
        if (config.print) process.stderr.write(`${describe(report)}\n`);
        logger.debug('evaluation', { ...report });
      });
    };

    return {
      start: () => writer.open(true),
      operator: tap((record) => {
        evaluation.observe(record);
        if (record.metadata.label !== undefined && record.payload.embedding) sample.offer(record.payload.embedding, record.metadata.label);
        const a = record.payload.assignment;
        if (a && a.cluster !== null) {
          recentIds.push({ id: record.id, cluster: a.cluster });
          if (recentIds.length > config.window) recentIds.shift();
        }
        if (evaluation.count % config.every === 0) evaluateNow();
      }),
      async drain() {
        evaluateNow();
        await pending;
        const finalModel = scoreFinalModel(deps.registry, sample, logger);
        const report = { ...evaluation.report(Date.now(), deps.registry.current()?.model.numClusters ?? 0), finalModel };
        await deps.state.writeJson('evaluation-final.json', report);
        if (config.print) process.stderr.write(`final: ${describe(report)}${finalModel ? ` | final model v${deps.registry.current()?.version} on ${finalModel.n} indexed records: ${metricsText(finalModel)}` : ''}\n`);
        logger.info('final evaluation', { ...report });
      },
      snapshot: () => evaluation.snapshot(),
      restore: (saved) => evaluation.restore(saved),
      stop: () => writer.close(),
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

function publish(report: EvaluationReport, metrics: Metrics): void {
  const g = metrics.gauge('temi_evaluation', 'Latest evaluation figures', ['scope', 'metric']);
  for (const [scope, m] of [['cumulative', report.cumulative], ['rolling', report.rolling]] as const) {
    if (!m) continue;
    g.set(m.acc, { scope, metric: 'acc' });
    g.set(m.nmi, { scope, metric: 'nmi' });
    g.set(m.ari, { scope, metric: 'ari' });
    g.set(m.ami, { scope, metric: 'ami' });
  }
  g.set(report.health.clusterSizeEntropy, { scope: 'health', metric: 'cluster_size_entropy' });
  g.set(report.health.meanConfidence, { scope: 'health', metric: 'mean_confidence' });
  if (report.health.neighbourAgreement !== undefined) g.set(report.health.neighbourAgreement, { scope: 'health', metric: 'neighbour_agreement' });
}

function metricsText(m: LabelMetrics): string {
  return `ACC ${m.acc.toFixed(3)} NMI ${m.nmi.toFixed(3)} ARI ${m.ari.toFixed(3)} AMI ${m.ami.toFixed(3)} (${m.clustersUsed} clusters used)`;
}

function describe(r: EvaluationReport): string {
  const parts = [`evaluation @${r.records} records (model v${r.modelVersion ?? '-'}, ${r.unassigned} unassigned)`];
  if (r.cumulative) parts.push(`cumulative ${metricsText(r.cumulative)}`);
  if (r.rolling) parts.push(`rolling ${metricsText(r.rolling)}`);
  parts.push(`entropy ${r.health.clusterSizeEntropy.toFixed(3)} confidence ${r.health.meanConfidence.toFixed(3)}${r.health.neighbourAgreement !== undefined ? ` neighbour-agreement ${r.health.neighbourAgreement.toFixed(3)}` : ''}`);
  return parts.join(' | ');
}

