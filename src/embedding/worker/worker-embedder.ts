import { Worker } from 'node:worker_threads';
import type { DecodedPixels } from '../../runtime/contracts/record.ts';
import { WorkerClient } from '../../runtime/workers/worker-client.ts';
import { buffersOf } from '../../runtime/workers/worker-messages.ts';
import { applyNativeProcessSettings } from '../../tf/backends.ts';
import { TENSORS_EVENT } from '../../tf/tensor-gauge.ts';
import type { Embedder } from '../embedder.ts';
import { tensorBuffer } from '../../tf/native-session.ts';
import { packImages } from '../onnx/pack-images.ts';
import type { ExpectedGeometry } from '../pixel-checks.ts';
import type { EmbedAnswer, EmbedWorkerBoot, EmbedWorkerReady } from './embed-worker-protocol.ts';

export const EMBED_WORKER_LOST = 'TS_ERR_EMBED_WORKER_LOST';
export const EMBED_WORKER_CLOSED = 'TS_ERR_EMBED_WORKER_CLOSED';
/** An error thrown in the worker without a code of its own (e.g. from TensorFlow). */
export const EMBED_BATCH_FAILED = 'TS_ERR_EMBED_BATCH_FAILED';

const MAX_SPARE_BUFFERS = 4;

/**
 * A TfEmbedder in a worker thread with its own TensorFlow.js engine. `embed` packs the batch here
 * (one copy, as the in-thread embedder makes), transfers it, and resolves when the worker answers,
 * so the calling thread is free during the forward pass: the decode of batch n+1 overlaps the
 * inference of batch n, and batch n+1 waits in the worker (batchesAtOnce) so the model starts on
 * it as soon as batch n ends. Same rows, same order, same errors (coded) as TfEmbedder. The worker hands
 * each batch's buffer back with its answer and the next batch is packed into it: no 10 MB
 * allocation per batch on either thread. The buffers come from tensorBuffer, so a native session in
 * the worker takes them as its input without a copy.
 */
export class WorkerEmbedder implements Embedder {
  /** The worker runs its requests in order; the next batch waits there, not on this thread. */
  readonly batchesAtOnce = 2;
  /** Batch buffers handed back by the worker, for the next batches (as many as were in flight at once). */
  private readonly spare: Float32Array[] = [];

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
    applyNativeProcessSettings();
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
    const length = images.length * this.imageLength;
    const packed = packImages(images, 'nhwc', images.length, this.spareOfLength(length) ?? tensorBuffer(length));
    const { rows, packed: returned } = (await this.client.call({ op: 'embed', packed, count: images.length }, buffersOf(packed))) as EmbedAnswer;
    this.spare.push(returned);
    if (this.spare.length > MAX_SPARE_BUFFERS) this.spare.shift();
    // One buffer per row: a row may later be transferred on its own (e.g. to the index worker).
    return Array.from({ length: images.length }, (_, i) => rows.slice(i * this.dim, (i + 1) * this.dim));
  }

  private get imageLength(): number {
    return this.geometry.width * this.geometry.height * this.geometry.channels;
  }

  /** A handed-back buffer of exactly `length` values (a batch of the same size), taken off the list. */
  private spareOfLength(length: number): Float32Array | undefined {
    const at = this.spare.findIndex((buffer) => buffer.length === length);
    return at < 0 ? undefined : this.spare.splice(at, 1)[0];
  }

  async dispose(): Promise<void> {
    await this.client.close();
  }
}
