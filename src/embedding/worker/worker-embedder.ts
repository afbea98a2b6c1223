import { Worker } from 'node:worker_threads';
import type { DecodedPixels } from '../../runtime/contracts/record.ts';
import { WorkerClient } from '../../runtime/workers/worker-client.ts';
import { buffersOf } from '../../runtime/workers/worker-messages.ts';
import { quietNativeInfoLogs } from '../../tf/backends.ts';
import { TENSORS_EVENT } from '../../tf/tensor-gauge.ts';
import type { Embedder } from '../embedder.ts';
import { packImages } from '../onnx/pack-images.ts';
import type { ExpectedGeometry } from '../pixel-checks.ts';
import type { EmbedWorkerBoot, EmbedWorkerReady } from './embed-worker-protocol.ts';

export const EMBED_WORKER_LOST = 'TS_ERR_EMBED_WORKER_LOST';
export const EMBED_WORKER_CLOSED = 'TS_ERR_EMBED_WORKER_CLOSED';
/** An error thrown in the worker without a code of its own (e.g. from TensorFlow). */
export const EMBED_BATCH_FAILED = 'TS_ERR_EMBED_BATCH_FAILED';

/**
 * A TfEmbedder in a worker thread with its own TensorFlow.js engine. `embed` packs the batch here
 * (one copy, as the in-thread embedder makes), transfers it, and resolves when the worker answers,
 * so the calling thread is free during the forward pass: the decode of batch n+1 overlaps the
 * inference of batch n. Same rows, same order, same errors (coded) as TfEmbedder.
 */
export class WorkerEmbedder implements Embedder {
  private constructor(
    private readonly client: WorkerClient,
    readonly geometry: Required<ExpectedGeometry>,
    readonly dim: number,
    /** The backend the worker loaded and how the model runs there. */
    readonly backend: string,
    readonly execution: string,
    private readonly reported: { tensors?: number },
  ) {}

  /** The worker engine's live tensors, as it last reported them (once a second when they change); undefined before its first report. */
  get tensorsAlive(): number | undefined {
    return this.reported.tensors;
  }

  /** Starts the worker and opens the model there; `log` gets its start-up lines (backend choice). */
  static async start(boot: EmbedWorkerBoot, log: (line: string) => void = () => {}): Promise<WorkerEmbedder> {
    quietNativeInfoLogs();
    const reported: { tensors?: number } = {};
    const client = new WorkerClient(new Worker(new URL('./embed-worker.boot.mjs', import.meta.url), { workerData: boot }), {
      name: 'embed worker',
      failureCode: EMBED_WORKER_LOST,
      uncodedErrorCode: EMBED_BATCH_FAILED,
      closedCode: EMBED_WORKER_CLOSED,
      onEvent: (event) => {
        if (event.event === TENSORS_EVENT) reported.tensors = event.payload as number;
      },
    });
    try {
      const ready = (await client.started) as EmbedWorkerReady;
      for (const line of ready.log) log(line);
      return new WorkerEmbedder(client, ready.geometry, ready.dim, ready.backend, ready.execution, reported);
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  async embed(images: readonly DecodedPixels[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const packed = packImages(images, 'nhwc');
    const rows = (await this.client.call({ op: 'embed', packed, count: images.length }, buffersOf(packed))) as Float32Array;
    // One buffer per row: a row may later be transferred on its own (e.g. to the index worker).
    return Array.from({ length: images.length }, (_, i) => rows.slice(i * this.dim, (i + 1) * this.dim));
  }

  async dispose(): Promise<void> {
    await this.client.close();
  }
}
