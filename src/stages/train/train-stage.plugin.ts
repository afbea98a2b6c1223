import { Observable } from 'rxjs';
import { TRAINER_NAMES, createTrainer, fusedKernelsReport } from '../../clustering/trainer-factory.ts';
import { clusteringServices, definePlugin, reasonOf, services, s } from '../../runtime/contracts/index.ts';
import { BACKEND_PREFERENCE, selectBackend } from '../../tf/backends.ts';
import { trackTensors, trackWorkerTensors } from '../../tf/tensor-gauge.ts';
import { WorkerRoundChooser } from '../../clustering/worker/worker-round-chooser.ts';
import { WorkerTrainer } from '../../clustering/worker/worker-trainer.ts';
import { PeriodicTrainer } from './periodic-trainer.ts';
import { roundProgress } from './round-progress.ts';
import { checkTrainPipeline, trainerSettings } from './train-pipeline-check.ts';

/**
 * Trainers whose clusters live in features they learn (mmdc's ConvNet). The label-free choice
 * scores candidates by the index's neighbours, which for them are raw pixels, the very features
 * they exist to replace: pixel-space k-means and the window clustering would win every round and
 * the trained network would never serve. Their rounds publish the warm-started model.
 */
const LEARNS_OWN_FEATURES: ReadonlySet<string> = new Set(['mmdc']);

export const trainStagePlugin = definePlugin({
  name: 'train',
  kind: 'stage',
  description: 'Retrains clustering heads periodically on the index window (temi by default; scan, tsp, kmeans; mmdc trains a ConvNet on the decoded images the window holds) and publishes versioned models; records pass through untouched and never wait for training.',
  configSchema: s.object({
    trainer: s.enum(TRAINER_NAMES, { default: 'temi', description: 'Training objective.' }),
    clusters: s.integer({ min: 2, max: 10_000, default: 10, description: 'Number of clusters C.' }),
    firstRoundAt: s.integer({ min: 2, default: 2000, description: 'Records before the first round.' }),
    everyRecords: s.integer({ min: 1, default: 2000, description: 'New records that trigger the next round.' }),
    everySeconds: s.optional(s.number({ exclusiveMin: 0, description: 'Also train this long after the last round if anything new arrived.' })),
    epochs: s.integer({ min: 1, default: 5, description: 'Epochs over the window per round (warm-started).' }),
    minSteps: s.integer({
      min: 0,
      default: 0,
      description: 'Optimiser steps a round takes at least, running more epochs over a small window: the first models label the start of the stream, so they need as much training as later ones.',
    }),
    k: s.integer({ min: 1, default: 50, description: 'Neighbours per anchor a pair partner is drawn from.' }),
    maxRows: s.optional(s.integer({ min: 2, description: 'Train on a uniform subset of the window of at most this many rows.' })),
    batchSize: s.integer({ min: 2, default: 256 }),
    learningRate: s.optional(s.number({ exclusiveMin: 0, description: 'Base rate (peak = rate * batch / 256); the trainer default when absent.' })),
    heads: s.optional(s.integer({ min: 1, description: 'Independent heads (temi default 16, scan/tsp 10).' })),
    seed: s.integer({ default: 0 }),
    backend: s.enum(['auto', ...BACKEND_PREFERENCE] as const, {
      default: 'auto',
      description: "TensorFlow.js backend for training and for serving its models; auto takes the fastest available (native TensorFlow after `npm run setup:tensorflow`). One backend serves the pipeline's thread; with thread 'worker' the training thread loads the same choice for itself.",
    }),
    thread: s.enum(['worker', 'main'] as const, {
      default: 'worker',
      description:
        "Where training runs: 'worker' (a thread of its own with its own TensorFlow.js engine, so a training step never delays ingest, heartbeats or metrics; under selectModel the round's choice runs in a second thread of its own, without TensorFlow.js) or 'main' (the pipeline's thread, between records, the choice in pieces of up to a few hundred milliseconds; saves the workers' memory).",
    }),
    finalRound: s.boolean({ default: true, description: 'When a finite source ends, train once more on records that arrived since the last round (skipped when stopped by a signal).' }),
    options: s.record(s.any(), { default: {}, description: "Trainer-specific options, e.g. temi's beta or kmeans' decayFactor." }),
    selectModel: s.boolean({
      default: true,
      description:
        'Each round publishes the candidate whose clusters best keep mined neighbours together (chance-corrected kNN agreement on the window): the new model, the one in service, and k-means and the window clustering when on. The scores are logged. Off: every round publishes the trainer\'s model. Not applied to mmdc, which learns its own features (the neighbours are raw pixels there): its rounds always publish.',
    }),
    kmeansCandidate: s.boolean({ default: true, description: 'Under selectModel: k-means on the window (unit rows) competes each round.' }),
    windowClustering: s.boolean({ default: true, description: 'Under selectModel: spectral clustering of the kNN graph (balanced k-means, served by prototypes) competes each round.' }),
    refine: s.boolean({ default: false, description: 'Under windowClustering: self-labelling refinement (confident labels kept, the rest relabelled from their neighbours, prototypes from the confident part).' }),
    drift: s.boolean({ default: true, description: 'Measure how well arriving records fit the clusters and bring a round forward when many fit none (a new class arriving).' }),
    driftRecords: s.integer({ min: 10, default: 200, description: 'Under drift: recent records the unfamiliar share is measured over, and the fewest new records a round brought forward trains on.' }),
    driftShare: s.number({ exclusiveMin: 0, max: 1, default: 0.25, description: "Under drift: share of recent records below the fit 95% of the last window reached that brings a round forward (about 0.05 when nothing changed)." }),
  }),
  provides: {},
  checkPipeline: checkTrainPipeline,
  deps: { state: services.state, pipeline: services.pipeline, index: clusteringServices.vectorIndex, registry: clusteringServices.modelRegistry, clock: services.clock, logger: services.logger, metrics: services.metrics, progress: services.progress },
  async create({ config, deps, instanceName }) {
    const settings = trainerSettings(config);
    const logger = deps.logger.child({ stage: instanceName, trainer: config.trainer });
    const trainer =
      config.thread === 'worker'
        ? await WorkerTrainer.start({ trainer: config.trainer, settings, backend: config.backend }, (line) => logger.info(`training thread: ${line}`))
        : createTrainer(config.trainer, settings);
    const choice = config.selectModel && !LEARNS_OWN_FEATURES.has(config.trainer) ? { clusters: config.clusters, seed: config.seed, kmeans: config.kmeansCandidate, window: config.windowClustering, refine: config.refine } : undefined;
    // The choice's window clustering is seconds of arithmetic per round: off the pipeline's thread
    // it neither holds up records nor a stop (which aborts it like a training round).
    let chooser: WorkerRoundChooser | undefined;
    if (choice && config.thread === 'worker') {
      try {
        chooser = await WorkerRoundChooser.start();
      } catch (error) {
        await trainer.dispose();
        throw error;
      }
    }
    const showRound = roundProgress(deps.progress.status('train'), config);
    let backend = config.backend as string;
    // training-summary.json in the state directory: what the trainer has done in this run, for
    // an operator (and the demo) to read without parsing logs.
    // Writes go one after another: the end of a round and the end of the stream can ask at once.
    let summaryWritten: Promise<void> = Promise.resolve();
    const writeSummary = (): Promise<void> => {
      summaryWritten = summaryWritten.then(() => {
        const { rounds, samples, seconds } = periodic.totals;
        const summary = { trainer: config.trainer, backend, thread: config.thread, rounds, samples, seconds: Number(seconds.toFixed(3)), samplesPerSecond: seconds > 0 ? Math.round(samples / seconds) : 0, at: new Date(deps.clock.now()).toISOString() };
        return deps.state.writeJson('training-summary.json', summary).catch((error: unknown) => logger.warn('could not write training-summary.json', { reason: reasonOf(error) }));
      });
      return summaryWritten;
    };
    const periodic = new PeriodicTrainer(
      trainer,
      deps.index,
      deps.registry,
      { firstRoundAt: config.firstRoundAt, everyRecords: config.everyRecords, everySeconds: config.everySeconds, epochs: config.epochs, minSteps: config.minSteps, k: config.k, maxRows: config.maxRows,
        choice,
        novelty: config.drift ? { records: config.driftRecords, share: config.driftShare } : undefined },
      deps.clock,
      logger,
      deps.metrics,
      deps.pipeline.stopping,
      (report) => {
        showRound(report);
        if (report.phase === 'done') void writeSummary();
      },
      chooser && ((data, given, options, signal) => chooser.choose(data, given, options, signal)),
    );
    let releaseTensors: (() => void) | undefined;
    return {
      async start() {
        const selection = await selectBackend(config.backend, (line) => logger.info(line));
        backend = selection.backend;
        // A worker thread reports its own (trainer-worker.ts).
        const kernels = trainer instanceof WorkerTrainer ? undefined : fusedKernelsReport(config.trainer);
        if (kernels) logger.info(kernels);
        deps.metrics.gauge('temi_backend_info', 'TensorFlow.js backend in use (1 for the active one)', ['backend']).set(1, { backend: selection.backend });
        const releaseMain = trackTensors(deps.metrics);
        const releaseWorker = trainer instanceof WorkerTrainer ? trackWorkerTensors(deps.metrics, 'training', () => trainer.tensorsAlive) : undefined;
        releaseTensors = () => {
          releaseWorker?.();
          releaseMain();
        };
      },
      // The final round runs when the input completes and before this stage's output does, so
      // the stages after it (assign's final revision pass) see the final model before the end.
      operator: (input) =>
        new Observable((subscriber) =>
          input.subscribe({
            next(record) {
              try {
                periodic.observe(1, record.payload.embedding);
              } catch (error) {
                subscriber.error(error);
                return;
              }
              subscriber.next(record);
            },
            error: (e) => subscriber.error(e),
            complete() {
              periodic.drain(config.finalRound).then(
                () => writeSummary().then(() => subscriber.complete()),
                (e: unknown) => subscriber.error(e),
              );
            },
          }),
        ),
      drain: () => periodic.drain(false),
      snapshot: () => periodic.snapshot(),
      restore: (state) => periodic.restore(state),
      stop: async () => {
        releaseTensors?.();
        await chooser?.dispose();
        await trainer.dispose();
      },
    };
  },
});
