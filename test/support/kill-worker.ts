import type { Worker } from 'node:worker_threads';
import type { WorkerTrainer } from '../../src/clustering/worker/worker-trainer.ts';

/** Terminates a WorkerTrainer's thread from outside, as a crash (an abort in native code, OOM) would end it. */
export function killWorkerOf(trainer: WorkerTrainer): Promise<number> {
  return (trainer as unknown as { client: { worker: Worker } }).client.worker.terminate();
}
