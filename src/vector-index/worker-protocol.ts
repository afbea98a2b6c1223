import type { ResolvedIndexConfig } from './index-config.ts';

/** Requests from VectorIndex (main thread) to index-worker.ts. Typed arrays travel as transferables. */

export interface WorkerBoot {
  readonly config: ResolvedIndexConfig;
  /** Load this saved index before answering anything. */
  readonly loadFrom?: string;
}

export type IndexRequest =
  | { readonly id: number; readonly op: 'add'; readonly keys: BigUint64Array; readonly vectors: Float32Array }
  | { readonly id: number; readonly op: 'search'; readonly queries: Float32Array; readonly count: number; readonly k: number }
  | { readonly id: number; readonly op: 'trainingSet'; readonly k: number; readonly maxRows?: number }
  | { readonly id: number; readonly op: 'save'; readonly dir: string }
  | { readonly id: number; readonly op: 'load'; readonly dir: string }
  | { readonly id: number; readonly op: 'keys' };
