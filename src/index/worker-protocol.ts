import { TemiError } from '../runtime/errors.ts';
import type { ResolvedIndexConfig } from './index-config.ts';

/** Messages between VectorIndex (main thread) and index-worker.ts. Typed arrays travel as transferables. */

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

export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly where?: string;
  readonly details?: Record<string, unknown>;
  readonly stack?: string;
}

export type IndexResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** TemiError's message carries "CODE: where: " in front; strip it so the rebuilt error does not repeat it. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof TemiError) {
    const prefix = error.where ? `${error.code}: ${error.where}: ` : `${error.code}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return { code: error.code, message, where: error.where, details: error.details, stack: error.stack };
  }
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: String(error) };
}

export function rebuildError(serialized: SerializedError, fallbackCode: string): TemiError {
  const error = new TemiError(serialized.code ?? fallbackCode, serialized.message, { where: serialized.where, details: serialized.details });
  if (serialized.stack) error.stack = `${error.stack}\n    -- in the index worker --\n${serialized.stack}`;
  return error;
}

/** The buffers to transfer with a message (all arrays here own plain, non-shared ArrayBuffers). */
export function buffersOf(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  return arrays.map((array) => array.buffer as ArrayBuffer);
}
