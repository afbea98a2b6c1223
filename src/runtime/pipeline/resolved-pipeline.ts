import type { StagePlugin } from '../contracts/plugin.ts';
import type { ServiceFactory } from '../contracts/service-factory.ts';
import type { SecretRedactor } from '../services/secret-redactor.ts';
import type { PipelineSpec } from './pipeline-spec.ts';

/**
 * What the engine runs: a pipeline file read, validated and bound to its plugins. Resolving one
 * needs the plugin registry, which sits above the runtime (src/plugins/resolve-pipeline.ts); the
 * engine only needs this result.
 */

/** A plugin use with its config validated by the plugin's own schema. */
export interface ResolvedStage {
  readonly plugin: StagePlugin;
  readonly name: string;
  readonly config: unknown;
  /** JSON path of this use in the pipeline file, for errors at run time. */
  readonly path: string;
}

export interface ResolvedPipeline {
  readonly file: string;
  readonly baseDir: string;
  readonly spec: PipelineSpec;
  readonly source: ResolvedStage;
  readonly stages: readonly ResolvedStage[];
  readonly sink: ResolvedStage;
  readonly deadLetter: ResolvedStage;
  readonly stateDir: string;
  readonly redactor: SecretRedactor;
  /** Factories of services the plugin set shares, created only if a plugin of this pipeline asks. */
  readonly serviceFactories: readonly ServiceFactory<unknown, any>[];
}
