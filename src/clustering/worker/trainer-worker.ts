import { workerData } from 'node:worker_threads';
import { TemiError } from '../../runtime/errors.ts';
import { emitEvent, serveRequests, type Handled } from '../../runtime/workers/serve-requests.ts';
import { selectBackend } from '../../tf/backends.ts';
import { reportTensors, startTensorReports } from '../../tf/tensor-gauge.ts';
import type { ClusterTrainer } from '../contracts.ts';
import { createTrainer, fusedKernelsReport } from '../trainer-factory.ts';
import { EPOCH_EVENT, type AbortRoundNotice, type TrainedRound, type TrainerRequest, type TrainerWorkerBoot, type TrainerWorkerReady } from './trainer-worker-protocol.ts';

/**
 * The trainer's own thread. A training step is synchronous tensor work (hundreds of milliseconds
 * natively, seconds on wasm); here it cannot delay the pipeline's event loop, so Kafka heartbeats,
 * metrics and ingest carry on during a round. The trainers yield between steps, which lets an
 * abort notice or a snapshot request in while a round runs.
 */

const boot = workerData as TrainerWorkerBoot;
let trainer: ClusterTrainer;
const running = new Map<number, AbortController>();
/** Aborts that arrived before their round started. */
const abortedEarly = new Set<number>();

async function start(): Promise<TrainerWorkerReady> {
  const log: string[] = [];
  const selection = await selectBackend(boot.backend, (line) => log.push(line));
  trainer = createTrainer(boot.trainer, boot.settings);
  const kernels = fusedKernelsReport(boot.trainer);
  if (kernels) log.push(kernels);
  // This engine's tensors are invisible to the pipeline's thread: temi_tensors_alive{thread="training"}.
  startTensorReports();
  return { backend: selection.backend, log };
}

async function handle(request: TrainerRequest): Promise<Handled> {
  switch (request.op) {
    case 'trainRound':
      return { result: await trainRound(request) };
    case 'snapshot':
      return { result: await trainer.snapshot() };
    case 'restore':
      await trainer.restore(request.state);
      return { result: null };
  }
}

async function trainRound(request: Extract<TrainerRequest, { op: 'trainRound' }>): Promise<TrainedRound> {
  const controller = new AbortController();
  running.set(request.round, controller);
  if (abortedEarly.delete(request.round)) controller.abort();
  try {
    const result = await trainer.trainRound(request.data, {
      epochs: request.epochs,
      minSteps: request.minSteps,
      signal: controller.signal,
      onEpoch: (report) => {
        emitEvent(EPOCH_EVENT, report);
        // A round's steps may leave the timer no turn: report at each epoch as well.
        reportTensors();
      },
    });
    const model = result.model.serialize();
    result.model.dispose();
    return { model, meanLoss: result.meanLoss, epochs: result.epochs, samples: result.samples, seconds: result.seconds };
  } finally {
    running.delete(request.round);
    reportTensors();
  }
}

function abort(notice: AbortRoundNotice): void {
  const controller = running.get(notice.round);
  if (controller) controller.abort(new TemiError('TS_ERR_TRAIN_ABORTED', 'the training round was aborted by its owner'));
  else abortedEarly.add(notice.round);
}

serveRequests<TrainerRequest>(start, handle, (message) => {
  if ((message as AbortRoundNotice)?.op === 'abort') abort(message as AbortRoundNotice);
});
