import { workerData } from 'node:worker_threads';
import { buffersOf } from '../../runtime/workers/worker-messages.ts';
import { serveRequests, type Handled } from '../../runtime/workers/serve-requests.ts';
import { selectBackend } from '../../tf/backends.ts';
import { startTensorReports } from '../../tf/tensor-gauge.ts';
import { TfEmbedder } from '../tf-embedder.ts';
import type { EmbedAnswer, EmbedRequest, EmbedWorkerBoot, EmbedWorkerReady } from './embed-worker-protocol.ts';

/**
 * The embed model's own thread. A forward pass is synchronous native work; here it does not hold
 * the pipeline's event loop, so decoding the next batch (and Kafka, metrics) carries on while
 * this one runs.
 */

const boot = workerData as EmbedWorkerBoot;
let embedder: TfEmbedder;

async function start(): Promise<EmbedWorkerReady> {
  const log: string[] = [];
  const selection = await selectBackend(boot.backend, (line) => log.push(line));
  embedder = await TfEmbedder.open(boot.spec, boot.options);
  // This engine's tensors are invisible to the pipeline's thread: temi_tensors_alive{thread="embed"}.
  startTensorReports();
  return { backend: selection.backend, log, geometry: embedder.geometry, dim: embedder.dim, execution: embedder.execution };
}

function handle(request: EmbedRequest): Handled {
  const rows = embedder.embedPacked(request.packed, request.count);
  const answer: EmbedAnswer = { rows, packed: request.packed };
  return { result: answer, transfer: [...buffersOf(rows), ...buffersOf(request.packed)] };
}

serveRequests<EmbedRequest>(start, handle);
