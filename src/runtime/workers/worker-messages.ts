import { TemiError } from '../errors.ts';

/**
 * The wire format shared by every request/response worker (the vector index, the trainer): a
 * request carries an id, the worker answers that id once; id 0 is the start-up handshake. Events
 * (progress, log lines) carry no id. Errors cross the thread boundary as plain objects and are
 * rebuilt as TemiErrors with their code, `where` and details intact.
 */

export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly where?: string;
  readonly details?: Record<string, unknown>;
  readonly stack?: string;
}

export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export interface WorkerEvent {
  readonly event: string;
  readonly payload: unknown;
}

export type WorkerMessage = WorkerResponse | WorkerEvent;

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

export function rebuildError(serialized: SerializedError, fallbackCode: string, workerName: string): TemiError {
  const error = new TemiError(serialized.code ?? fallbackCode, serialized.message, { where: serialized.where, details: serialized.details });
  if (serialized.stack) error.stack = `${error.stack}\n    -- in the ${workerName} --\n${serialized.stack}`;
  return error;
}

/** The buffers to transfer with a message (all arrays here own plain, non-shared ArrayBuffers). */
export function buffersOf(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  return arrays.map((array) => array.buffer as ArrayBuffer);
}
