import { Worker } from 'node:worker_threads';
import { TemiError } from '../../../runtime/contracts/index.ts';
import { WorkerClient } from '../../../runtime/operators/index.ts';
import type { DecodeAnswer, DecodeWorkerBoot, DecodeWorkerReady } from './decode-worker-protocol.ts';

export const DECODE_WORKER_LOST = 'TS_ERR_DECODE_WORKER_LOST';
export const DECODE_WORKER_CLOSED = 'TS_ERR_DECODE_WORKER_CLOSED';

/**
 * Worker threads running the decode stage's fast path. Each image goes to the thread with the
 * fewest waiting; a thread that crashes fails its pending images with TS_ERR_DECODE_WORKER_LOST
 * and takes no more, and the stage decodes those with sharp instead.
 */
export class DecodePool {
  private readonly waiting: number[];

  private constructor(
    private readonly clients: WorkerClient[],
    /** What the threads decode natively, as the first one reported it. */
    readonly fastPath: string,
  ) {
    this.waiting = clients.map(() => 0);
  }

  static async start(threads: number, boot: DecodeWorkerBoot): Promise<DecodePool> {
    const clients = Array.from(
      { length: threads },
      (_, i) =>
        new WorkerClient(new Worker(new URL('./decode-worker.boot.mjs', import.meta.url), { workerData: boot }), {
          name: `decode worker ${i + 1}`,
          failureCode: DECODE_WORKER_LOST,
          closedCode: DECODE_WORKER_CLOSED,
        }),
    );
    try {
      const ready = (await Promise.all(clients.map((c) => c.started))) as DecodeWorkerReady[];
      return new DecodePool(clients, ready[0].fastPath);
    } catch (error) {
      await Promise.all(clients.map((c) => c.close()));
      throw error;
    }
  }

  get threads(): number {
    return this.clients.length;
  }

  /**
   * The image's normalised pixels, written into `into` (a Float32Array on a SharedArrayBuffer of
   * the stage's output size; the pixels returned hold this very array), or null when the fast path
   * leaves it to sharp. Rejects when no thread is left.
   */
  async decode(bytes: Uint8Array, into: Float32Array): Promise<DecodeAnswer> {
    const i = this.leastBusy();
    if (i < 0) throw new TemiError(DECODE_WORKER_LOST, 'every decode worker has stopped');
    // A copy goes over: the record keeps its bytes (dead letters and keepInput carry them on).
    const copy = bytes.slice();
    this.waiting[i]++;
    try {
      const answer = (await this.clients[i].call({ bytes: copy, into }, [copy.buffer as ArrayBuffer])) as DecodeAnswer;
      // The worker wrote through its own view of the shared memory; the caller's array is the one it lent.
      return answer && { ...answer, data: into };
    } finally {
      this.waiting[i]--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }

  private leastBusy(): number {
    let best = -1;
    for (let i = 0; i < this.clients.length; i++) {
      if (this.clients[i].closed) continue;
      if (best < 0 || this.waiting[i] < this.waiting[best]) best = i;
    }
    return best;
  }
}
