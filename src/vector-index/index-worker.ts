import { workerData } from 'node:worker_threads';
import { serveRequests, type Handled } from '../runtime/workers/serve-requests.ts';
import { buffersOf } from '../runtime/workers/worker-messages.ts';
import { IndexEngine } from './index-engine.ts';
import type { IndexRequest, WorkerBoot } from './worker-protocol.ts';

/**
 * The index's own thread: every usearch call (add, search, mining, save/load) runs here, so the
 * main event loop keeps serving Kafka heartbeats and metrics while a large batch is indexed.
 * Requests are handled one at a time, in arrival order (every handler here is synchronous).
 */

const boot = workerData as WorkerBoot;
let engine: IndexEngine;

function handle(request: IndexRequest): Handled {
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

serveRequests<IndexRequest>(() => {
  engine = new IndexEngine(boot.config);
  if (boot.loadFrom !== undefined) engine.load(boot.loadFrom);
  return engine.size;
}, handle);
