import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { PluginKind } from '../runtime/contracts/plugin.ts';
import { TemiError, isTemiError } from '../runtime/errors.ts';
import type { ValidationIssue } from '../runtime/schema/schema.ts';
import { SecretRedactor } from '../runtime/services/secret-redactor.ts';
import { substituteEnv } from '../runtime/pipeline/env-substitution.ts';
import { MAX_PIPELINE_BYTES, parsePipelineJson } from '../runtime/pipeline/parse-json.ts';
import { pipelineSchema, stageRefSchema, type StageRef } from '../runtime/pipeline/pipeline-spec.ts';
import type { ResolvedPipeline, ResolvedStage } from '../runtime/pipeline/resolved-pipeline.ts';
import type { PluginRegistry } from './plugin-registry.ts';
import { loadPluginModule } from './load-plugin-module.ts';
import { checkStageOrder } from './check-stage-order.ts';

export type { ResolvedPipeline, ResolvedStage } from '../runtime/pipeline/resolved-pipeline.ts';

export type ResolveResult = { ok: true; pipeline: ResolvedPipeline } | { ok: false; issues: ValidationIssue[] };

/** Where dead letters go when the pipeline does not say: a jsonl file in the state directory. */
const DEFAULT_DEAD_LETTER: StageRef = { use: 'dead-letter', with: { path: 'dead-letters.jsonl' } };

/**
 * Reads, substitutes and validates a pipeline file against the registry (loading the plugin
 * modules it lists into it). Collects every issue it can rather than stopping at the first, so a
 * user fixes a file in one pass.
 */
export async function resolvePipelineFile(file: string, registry: PluginRegistry, env: NodeJS.ProcessEnv = process.env): Promise<ResolveResult> {
  const absolute = resolve(file);
  let text: string;
  try {
    const { size } = await stat(absolute);
    if (size > MAX_PIPELINE_BYTES) throw new TemiError('TS_ERR_PIPELINE_TOO_LARGE', `the pipeline file is ${size} bytes, over the limit of ${MAX_PIPELINE_BYTES}; a pipeline is a few KB`, { where: file });
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    if (isTemiError(error)) throw error;
    throw new TemiError('TS_ERR_PIPELINE_READ', `cannot read pipeline file: ${(error as Error).message}`, { where: file, cause: error });
  }
  const parsed = parsePipelineJson(text, file);
  return resolvePipeline(parsed.value, { file: absolute, registry, env, issues: parsed.issues });
}

/** `issues`: found before resolution (duplicate keys while parsing), reported with the rest. */
export async function resolvePipeline(raw: unknown, options: { file: string; registry: PluginRegistry; env?: NodeJS.ProcessEnv; issues?: readonly ValidationIssue[] }): Promise<ResolveResult> {
  const { file, registry } = options;
  const baseDir = dirname(file);
  const redactor = new SecretRedactor();
  const issues: ValidationIssue[] = [...(options.issues ?? [])];
  const substituted = substituteEnv(raw, options.env ?? process.env, redactor, issues);
  const { value: spec } = pipelineSchema.validate(substituted, '$', issues);
  // Keep going on a partly invalid file: plugin names and their configs are checked wherever the
  // surrounding shape allows, so one run of `validate` reports every mistake it can.
  const input = (substituted && typeof substituted === 'object' && !Array.isArray(substituted) ? substituted : {}) as Record<string, unknown>;
  const specifiers = Array.isArray(input.plugins) ? input.plugins : [];

  for (const [i, specifier] of specifiers.entries()) {
    if (typeof specifier !== 'string' || specifier.length === 0) continue;
    const where = `$.plugins[${i}]`;
    try {
      for (const plugin of await loadPluginModule(specifier, baseDir, where)) registry.register(plugin, specifier);
    } catch (error) {
      if (!isTemiError(error)) throw error;
      issues.push({ code: error.code, path: where, message: error.code === 'TS_ERR_PLUGIN_NOT_FOUND' || error.where === where ? error.message.replace(`${error.code}: ${where}: `, '') : error.reason });
    }
  }

  const seen = new Map<string, string>();
  const use = (ref: unknown, path: string, kind: PluginKind): ResolvedStage | undefined => {
    const { value: checked } = stageRefSchema.validate(ref, path, []);
    return checked ? resolveUse(checked, path, kind, registry, issues, seen) : undefined;
  };
  const source = use(input.source, '$.source', 'source');
  const stages = Array.isArray(input.stages) ? input.stages.map((ref, i) => use(ref, `$.stages[${i}]`, 'stage')) : [];
  const sink = use(input.sink, '$.sink', 'sink');
  const deadLetter = use(input.deadLetter ?? DEFAULT_DEAD_LETTER, '$.deadLetter', 'sink');
  issues.push(...checkStageOrder({ deadLetter, source, stages, sink, maxInFlight: spec?.runtime.maxInFlight }, registry));
  if (!spec || issues.length || !source || !sink || !deadLetter || stages.some((s) => !s)) return { ok: false, issues: sortedByPath(issues) };

  return {
    ok: true,
    pipeline: {
      file,
      baseDir,
      spec,
      source,
      stages: stages as ResolvedStage[],
      sink,
      deadLetter,
      stateDir: resolve(baseDir, spec.state.dir ?? `./state/${spec.name || basename(file, '.json')}`),
      redactor,
      serviceFactories: registry.serviceFactories(),
    },
  };
}

function resolveUse(ref: StageRef, path: string, kind: PluginKind, registry: PluginRegistry, issues: ValidationIssue[], seen: Map<string, string>): ResolvedStage | undefined {
  const plugin = registry.get(ref.use);
  if (!plugin) {
    const near = registry.suggest(ref.use, kind);
    issues.push({
      code: 'TS_ERR_PIPELINE_UNKNOWN_PLUGIN',
      path: `${path}.use`,
      expected: `a ${kind} plugin`,
      found: JSON.stringify(ref.use),
      message: `no plugin named ${JSON.stringify(ref.use)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; see \`temi-stream plugins\``,
    });
    return undefined;
  }
  if (plugin.kind !== kind) {
    issues.push({
      code: 'TS_ERR_PIPELINE_PLUGIN_KIND',
      path: `${path}.use`,
      expected: `a ${kind} plugin`,
      found: `${JSON.stringify(ref.use)}, a ${plugin.kind}`,
      message: `plugin ${JSON.stringify(ref.use)} is a ${plugin.kind}, not a ${kind}`,
    });
    return undefined;
  }
  const name = ref.id ?? ref.use;
  const clash = seen.get(name);
  if (clash) {
    issues.push({
      code: 'TS_ERR_PIPELINE_DUPLICATE_ID',
      path: ref.id ? `${path}.id` : `${path}.use`,
      expected: 'a unique instance name',
      found: JSON.stringify(name),
      message: `instance name ${JSON.stringify(name)} is already used at ${clash}; give one of them an "id"`,
    });
    return undefined;
  }
  seen.set(name, path);
  const { value: config } = plugin.configSchema.validate(ref.with ?? {}, `${path}.with`, issues);
  if (config === undefined) return undefined;
  return { plugin, name, config, path };
}

/** Issues in file order (top-level keys as they appear in the spec), stable for tests and people. */
function sortedByPath(issues: ValidationIssue[]): ValidationIssue[] {
  const order = ['$schema', 'name', 'description', 'plugins', 'source', 'stages', 'sink', 'deadLetter', 'state', 'metrics', 'runtime'];
  const rank = (path: string) => {
    const key = /^\$\.?([A-Za-z$]+)/.exec(path)?.[1];
    const i = key ? order.indexOf(key) : -1;
    return i === -1 ? order.length : i;
  };
  return issues.map((issue, i) => ({ issue, i })).sort((a, b) => rank(a.issue.path) - rank(b.issue.path) || a.i - b.i).map((x) => x.issue);
}
