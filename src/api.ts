/** Programmatic API: the plugin contract, the operators, and running a pipeline file in-process. */
export * from './runtime/contracts/index.ts';
export * from './runtime/operators/index.ts';
export { PipelineRun, type RunSummary } from './runtime/pipeline-run.ts';
export { resolvePipeline, resolvePipelineFile, type ResolvedPipeline } from './plugins/resolve-pipeline.ts';
export { PluginRegistry } from './plugins/plugin-registry.ts';
export { builtinPlugins, builtinServiceFactories, createRegistryWithBuiltins } from './plugins/builtin-plugins.ts';
// Reading what a run wrote: the latest label per record of a jsonl labels file (revisions appended).
export { readLatestLabels, countLabels, type LabelLineIdentity, type LabelsFileCounts } from './report/index.ts';
