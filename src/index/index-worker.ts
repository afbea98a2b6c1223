import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { IndexEngine } from './index-engine.ts';
import { buffersOf, serializeError, type IndexRequest, type IndexResponse, type WorkerBoot } from './worker-protocol.ts';

/**
 * The index's own thread: every usearch call (add, search, mining, save/load) runs here, so the
 * main event loop keeps serving Kafka heartbeats and metrics while a large batch is indexed.
 * Requests are handled one at a time, in arrival order.
 */

const port = parentPort!;
const boot = workerData as WorkerBoot;
let engine: IndexEngine;

function handle(request: IndexRequest): { result: unknown; transfer: TransferListItem[] } {
  switch (request.op) {
    case 'add': {
      const outcome = engine.add(request.keys, request.vectors);
      return { result: outcome, transfer: buffersOf(outcome.evicted, outcome.notKept) };
    }
    case 'search': {
      const found = engine.search(request.queries, request.count, request.k);
      return { result: found, transfer: buffersOf(found.keys, found.distances, found.counts) };
    }
    case 'trainingSet': {
      const set = engine.trainingSet(request.k, request.maxRows);
      const arrays: ArrayBufferView[] = [set.embeddings, set.keys, set.neighbours.indices];
      if (set.neighbours.similarities) arrays.push(set.neighbours.similarities);
      return { result: set, transfer: buffersOf(...arrays) };
    }
    case 'save':
      engine.save(request.dir);
      return { result: engine.size, transfer: [] };
    case 'load':
      engine.load(request.dir);
      return { result: engine.size, transfer: [] };
    case 'keys': {
      const keys = engine.keys();
      return { result: keys, transfer: buffersOf(keys) };
    }
  }
}

port.on('message', (request: IndexRequest) => {
  let response: IndexResponse;
  let transfer: TransferListItem[] = [];
  try {
    const handled = handle(request);
    response = { id: request.id, ok: true, result: handled.result };
    transfer = handled.transfer;
  } catch (error) {
    response = { id: request.id, ok: false, error: serializeError(error) };
  }
  port.postMessage(response, transfer);
});
// Request 0 is the start-up handshake: it reports whether the engine (and a saved index) loaded.
try {
  engine = new IndexEngine(boot.config);
  if (boot.loadFrom !== undefined) engine.load(boot.loadFrom);
  port.postMessage({ id: 0, ok: true, result: engine.size } satisfies IndexResponse);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: serializeError(error) } satisfies IndexResponse);
}
