import type { TransferListItem, Worker } from 'node:worker_threads';
import { TemiError } from '../errors.ts';
import { rebuildError, type WorkerEvent, type WorkerMessage } from './worker-messages.ts';

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export interface WorkerClientOptions {
  /** Names the worker in errors and rebuilt stacks, e.g. "index worker". */
  readonly name: string;
  /** Code of a crashed or exited worker. */
  readonly failureCode: string;
  /** Code of a request's error that carries none of its own (the failure code if absent). */
  readonly uncodedErrorCode?: string;
  /** Code of calls made after close(). */
  readonly closedCode: string;
  readonly onEvent?: (event: WorkerEvent) => void;
}

/**
 * The calling side of a request/response worker: numbers requests, settles each answer, and fails
 * everything pending (and everything later) with a coded error if the worker crashes or exits.
 * A busy worker holds the process open; an idle one does not.
 */
export class WorkerClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: TemiError | undefined;
  /** Settles with the worker's start-up handshake (request 0). */
  readonly started: Promise<unknown>;

  constructor(
    private readonly worker: Worker,
    private readonly options: WorkerClientOptions,
  ) {
    worker.on('message', (message: WorkerMessage) => this.receive(message));
    worker.on('error', (error) => this.fail(`the ${options.name} crashed: ${error.message}`, error));
    worker.on('exit', (code) => this.fail(`the ${options.name} exited (code ${code})`));
    worker.unref();
    this.started = this.waitFor(0);
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends one request; its id is added here. */
  call(request: object, transfer: readonly TransferListItem[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const answer = this.waitFor(id);
    this.worker.postMessage({ ...request, id }, transfer);
    return answer;
  }

  /** Sends a message that gets no answer (e.g. an abort for a running call). */
  notify(message: object): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  /** Stops the worker; pending and later calls fail with the closed code. */
  async close(): Promise<void> {
    if (this.failure) return;
    this.failure = new TemiError(this.options.closedCode, `the ${this.options.name} was closed`);
    this.rejectAll(this.failure);
    await this.worker.terminate();
  }

  private waitFor(id: number): Promise<unknown> {
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private receive(message: WorkerMessage): void {
    if ('event' in message) {
      this.options.onEvent?.(message);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker.unref();
    if (message.ok) waiting.resolve(message.result);
    else waiting.reject(rebuildError(message.error, this.options.uncodedErrorCode ?? this.options.failureCode, this.options.name));
  }

  private fail(message: string, cause?: unknown): void {
    if (this.failure) return;
    this.failure = new TemiError(this.options.failureCode, message, { cause });
    this.rejectAll(this.failure);
  }

  private rejectAll(error: TemiError): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}
