import type { BackendName } from '../../tf/backends.ts';
import type { ExpectedGeometry } from '../pixel-checks.ts';
import type { ModelSpec, TfEmbedderOptions } from '../tf-embedder.ts';

/** Messages between WorkerEmbedder (the pipeline's thread) and embed-worker.ts. */

export interface EmbedWorkerBoot {
  readonly spec: ModelSpec;
  readonly options: TfEmbedderOptions;
  /** TensorFlow.js backend the worker loads for itself (each thread has its own engine). */
  readonly backend: 'auto' | BackendName;
}

/** The handshake's answer: what the worker loaded. */
export interface EmbedWorkerReady {
  readonly backend: BackendName;
  readonly log: readonly string[];
  readonly geometry: Required<ExpectedGeometry>;
  readonly dim: number;
  readonly execution: string;
}

/** One batch, packed NHWC (its buffer is transferred). */
export interface EmbedRequest {
  readonly id: number;
  readonly op: 'embed';
  readonly packed: Float32Array;
  readonly count: number;
}

/** The answer: `count * dim` values, and the request's buffer handed back for the next batch (both transferred). */
export interface EmbedAnswer {
  readonly rows: Float32Array;
  readonly packed: Float32Array;
}
