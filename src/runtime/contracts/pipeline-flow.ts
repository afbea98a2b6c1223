/**
 * What a plugin declares about its place in a pipeline, so `validate` can refuse pipelines that
 * would run but never work (an embedder before the decoder, a trainer with no index), in pipeline
 * order and with the JSON path of the use at fault, before anything starts.
 */
import type { ValidationIssue } from '../schema/schema.ts';
import type { ServiceRef } from './services.ts';

export interface PluginNeeds {
  /** Payload fields the plugin reads; at least one of them must be set by an earlier use. */
  readonly payload?: readonly string[];
}

/**
 * What every instance of the plugin gives the uses after it. A plugin that declares this is
 * taken at its word: payload fields it does not list are not added (fields it receives pass on).
 * A plugin without it may add anything, so payload needs after it are not checked.
 */
export interface PluginProvides {
  readonly payload?: readonly string[];
  /** Services its instances bind (Lifecycle.provides), e.g. the index stage's vector index. */
  readonly services?: readonly ServiceRef<any>[];
}

/** One use of a plugin in a pipeline, its config validated. */
export interface PipelineUse {
  readonly plugin: string;
  /** Instance name (the `id`, or the plugin name). */
  readonly name: string;
  readonly config: unknown;
  /** JSON path of the use, e.g. `$.stages[2]`. */
  readonly path: string;
}

/** What a plugin's pipeline check sees: the other uses in order, and the runtime settings. */
export interface PipelineCheckContext {
  /** This use's JSON path. */
  readonly path: string;
  /** Source and stages before this use, in pipeline order. */
  readonly before: readonly PipelineUse[];
  /** Stages and sink after it, in order. */
  readonly after: readonly PipelineUse[];
  readonly runtime: { readonly maxInFlight: number };
}

/** A rule across uses that no single config can state; returns issues with JSON paths. */
export type PipelineCheck<C> = (config: C, context: PipelineCheckContext) => ValidationIssue[];
