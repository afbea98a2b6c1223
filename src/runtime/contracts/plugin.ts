/**
 * The stage plugin contract. Built-ins and third-party plugins use exactly this: a name, a kind,
 * ONE config schema (validation, JSON Schema, docs), the services it depends on, and a factory
 * that gets those services and the validated config and returns the instance for its kind.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import type { Schema } from '../schema/schema.ts';
import type { StreamRecord } from './record.ts';
import type { FlowControl, ServiceRef } from './services.ts';
import type { PipelineCheck, PluginNeeds, PluginProvides } from './pipeline-flow.ts';

export type PluginKind = 'source' | 'stage' | 'sink';

export type DepsShape = Record<string, ServiceRef<unknown>>;
export type ResolvedDeps<D extends DepsShape> = { [K in keyof D]: D[K] extends ServiceRef<infer T> ? T : never };

/** Optional hooks. The runtime calls start before records flow, drain when the source has stopped, snapshot/restore around state. */
export interface Lifecycle {
  start?(): Promise<void> | void;
  /** Finish buffered work (e.g. a pending training round, a partial batch); no new records arrive. */
  drain?(): Promise<void> | void;
  /** JSON-safe state to persist with the pipeline snapshot. */
  snapshot?(): Promise<unknown> | unknown;
  restore?(state: unknown): Promise<void> | void;
  /** Release resources (connections, workers, tensors). Always called, also after failures. */
  stop?(): Promise<void> | void;
  /**
   * Fields this instance adds to the run's summary (the "pipeline finished" log line, the last
   * one a run writes), read after drain and flush; e.g. evaluate's final scores.
   */
  summary?(): Record<string, unknown> | undefined;
  /** Services this instance offers to plugins created after it (e.g. the index stage offers the vector index). */
  readonly provides?: ReadonlyArray<readonly [ServiceRef<any>, unknown]>;
}

export interface SourceInstance extends Lifecycle {
  /**
   * The records. A finite source completes when done; an endless one completes when `close` is
   * called. The source must respect `flow` (await flow.whenReady() or pause its consumer).
   */
  open(flow: FlowControl): Observable<StreamRecord>;
  /** Stop producing: complete the observable after what is already emitted. */
  close(): Promise<void> | void;
  /** Total records when known in advance (finite sources), for progress and ETA. */
  readonly expectedCount?: number;
  /**
   * Positions acknowledged so far, captured just before a pipeline snapshot is taken. When the
   * pipeline keeps state (PipelineInfo.stateful), a source commits positions only through
   * commitCheckpoint, which the runtime calls once the snapshot covering them is durable: a
   * crash then never leaves committed input that the restored state has not seen.
   */
  checkpoint?(): unknown;
  commitCheckpoint?(checkpoint: unknown): Promise<void> | void;
}

export interface StageInstance extends Lifecycle {
  readonly operator: OperatorFunction<StreamRecord, StreamRecord>;
}

export interface SinkInstance extends Lifecycle {
  /** Durably write a batch; the runtime acks the records once this resolves. */
  write(records: readonly StreamRecord[]): Promise<void>;
  /** Flush anything buffered; called before final commit and exit. */
  flush?(): Promise<void> | void;
  /** How the runtime should batch records in front of this sink. */
  readonly batching?: { readonly maxSize: number; readonly maxWaitMs: number };
}

export interface InstanceOfKind {
  source: SourceInstance;
  stage: StageInstance;
  sink: SinkInstance;
}

export interface PluginContext<D extends DepsShape, C> {
  readonly deps: ResolvedDeps<D>;
  readonly config: C;
  /** The instance name: the stage's `id` in the pipeline, or the plugin name. */
  readonly instanceName: string;
}

export interface StagePlugin<K extends PluginKind = PluginKind, C = any, D extends DepsShape = DepsShape> {
  readonly name: string;
  readonly kind: K;
  readonly description: string;
  readonly configSchema: Schema<C>;
  readonly deps: D;
  create(context: PluginContext<D, C>): InstanceOfKind[K] | Promise<InstanceOfKind[K]>;
  /** Payload fields it reads from earlier uses (checked by `validate`, see pipeline-flow.ts). */
  readonly needs?: PluginNeeds;
  /** Payload fields and services it gives later uses. */
  readonly provides?: PluginProvides;
  /** Rules across uses (e.g. train's k below the index's capacity), run by `validate`. */
  readonly checkPipeline?: PipelineCheck<C>;
}

/** Identity function that gives plugin authors full type inference on config and deps. */
export function definePlugin<K extends PluginKind, C, D extends DepsShape>(plugin: StagePlugin<K, C, D>): StagePlugin<K, C, D> {
  return plugin;
}

/** What a plugin module exports: one plugin or several, as `default` or as `plugins`. */
export interface PluginModule {
  readonly default?: StagePlugin | readonly StagePlugin[];
  readonly plugins?: readonly StagePlugin[];
}
