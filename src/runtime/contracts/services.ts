/**
 * Services a plugin may ask for. Each is a typed token; the runtime resolves tokens from the
 * inversify container, so plugins never reach for globals and tests can bind real alternatives.
 */
import type { DeadLetter, StreamRecord } from './record.ts';
import type { ServiceFactoryDefinition } from './service-factory.ts';
import { PixelBufferPool } from '../services/pixel-buffer-pool.ts';

export interface ServiceRef<T> {
  readonly id: symbol;
  readonly description: string;
  /** Phantom field carrying the service type. */
  readonly __type?: T;
  /**
   * Creates the service on first request when neither the run, a plugin nor the plugin set
   * provides it. Only a ref whose factory needs nothing above the ref's own layer can carry one.
   */
  readonly defaultFactory?: ServiceFactoryDefinition<T, any>;
}

export function serviceRef<T>(name: string, options: { readonly defaultFactory?: ServiceFactoryDefinition<T, any> } = {}): ServiceRef<T> {
  return { id: Symbol.for(`temi-stream.service.${name}`), description: name, ...(options.defaultFactory ? { defaultFactory: options.defaultFactory } : {}) };
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

export interface Counter {
  inc(labels?: Record<string, string>, value?: number): void;
}
export interface Gauge {
  set(value: number, labels?: Record<string, string>): void;
}
export interface Histogram {
  observe(value: number, labels?: Record<string, string>): void;
}

export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): Histogram;
}

export interface Clock {
  now(): number;
}

/** Routes records a stage gave up on to the dead-letter sink, then acks them. */
export interface DeadLetters {
  send(letter: Omit<DeadLetter, 'at'>): Promise<void>;
  readonly count: number;
}

/** Durable key/value state under the pipeline's state directory (snapshots, index files, models). */
export interface StateStore {
  /** Directory the pipeline may write into; created on first use. */
  readonly dir: string;
  path(...parts: string[]): string;
  readJson<T>(name: string): Promise<T | undefined>;
  /** Atomic: temp file, fsync, rename. */
  writeJson(name: string, value: unknown): Promise<void>;
}

/** What a record's source needs from the runtime to respect the in-flight bound. */
export interface FlowControl {
  /** Resolves once the number of records in flight is below the bound. */
  whenReady(): Promise<void>;
  readonly paused: boolean;
  /** Called with true when the bound is reached and false when there is room again. */
  onChange(listener: (paused: boolean) => void): () => void;
  /** Records between source and final acknowledgement right now. */
  readonly inFlight: number;
}

export interface RecordFactoryInput {
  readonly key: string;
  readonly payload: StreamRecord['payload'];
  readonly origin: StreamRecord['metadata']['origin'];
  readonly label?: number;
  readonly headers?: Record<string, string>;
  readonly producedAt?: number;
  /** Called once when the record is acknowledged (sources use it to advance offsets). */
  readonly onAck?: () => void;
  /** Use this id instead of hashing the key (e.g. a numeric id that arrived with the record). */
  readonly id?: bigint;
}

export interface RecordFactory {
  create(input: RecordFactoryInput): StreamRecord;
}

/** Runtime-wide information every plugin may read. */
export interface PipelineInfo {
  readonly name: string;
  /** Directory the pipeline file lives in; relative paths in configs resolve against it. */
  readonly baseDir: string;
  /** Aborted when the run is over (signal, failure, or the source ended and drained): release everything. */
  readonly shutdown: AbortSignal;
  /**
   * Aborted as soon as a stop is requested (SIGINT/SIGTERM, PipelineRun.stop()), before draining:
   * long optional work (a training round) should give up so the process exits promptly.
   */
  readonly stopping: AbortSignal;
  /** Records the source says it will emit (a finite source that knows), for pacing periodic work such as evaluations. */
  readonly expectedRecords?: number;
  /**
   * True when a stage or sink keeps state in snapshots (index, trainer, evaluation): sources then
   * commit input positions only after the snapshot covering them is durable (see
   * SourceInstance.checkpoint). False: they may commit as soon as records are acknowledged.
   */
  readonly stateful: boolean;
}

export interface ProgressCounter {
  add(n?: number): void;
}
export interface ProgressStatus {
  /** undefined hides the status. */
  set(text: string | undefined): void;
}

/**
 * The progress line's entries besides what the sink wrote: a stage registers its own in create()
 * (so they appear in pipeline order) and reports into them as it goes, e.g. the index "indexed",
 * the trainer "train: round 2 step 140/300", assign "labelled". Registering a name twice returns
 * the same entry. Cheap enough to call per batch; drawing is the runtime's business.
 */
export interface Progress {
  counter(name: string): ProgressCounter;
  status(name: string): ProgressStatus;
}

/**
 * Float32 buffers for decoded pixels that go round instead of being collected: the decode stage
 * takes one per image for payload.pixels.data, and the stage that consumes the pixels and drops
 * them (embed or pixels-embed, without keepPixels) gives it back, after which it holds another
 * image. So a plugin that keeps payload.pixels.data past that stage must copy it, or set keepPixels.
 */
export interface PixelBuffers {
  /**
   * A buffer of `length` values, its content undefined: the caller fills all of it. `shared`: on
   * a SharedArrayBuffer, for another thread to write into without the buffer changing hands.
   */
  take(length: number, options?: { readonly shared?: boolean }): Float32Array;
  /** Returns a buffer `take` lent, once nothing reads it any more; any other array is left alone. */
  give(data: Float32Array): void;
}

export const services = {
  logger: serviceRef<Logger>('logger'),
  metrics: serviceRef<Metrics>('metrics'),
  clock: serviceRef<Clock>('clock'),
  deadLetters: serviceRef<DeadLetters>('deadLetters'),
  state: serviceRef<StateStore>('state'),
  flow: serviceRef<FlowControl>('flow'),
  records: serviceRef<RecordFactory>('records'),
  pipeline: serviceRef<PipelineInfo>('pipeline'),
  progress: serviceRef<Progress>('progress'),
  pixelBuffers: serviceRef<PixelBuffers>('pixelBuffers', { defaultFactory: { deps: {}, create: () => new PixelBufferPool() } }),
} as const;
