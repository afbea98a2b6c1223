import type { PipelineCheckContext, PipelineUse } from '../runtime/contracts/pipeline-flow.ts';
import type { StagePlugin } from '../runtime/contracts/plugin.ts';
import type { ServiceRef } from '../runtime/contracts/services.ts';
import type { ResolvedStage } from '../runtime/pipeline/resolved-pipeline.ts';
import type { ValidationIssue } from '../runtime/schema/schema.ts';
import type { PluginRegistry } from './plugin-registry.ts';

export interface StageOrderInput {
  /** The uses in the order a run creates them: dead-letter sink, source, stages, sink. */
  readonly deadLetter: ResolvedStage | undefined;
  readonly source: ResolvedStage | undefined;
  readonly stages: readonly (ResolvedStage | undefined)[];
  readonly sink: ResolvedStage | undefined;
  readonly maxInFlight: number | undefined;
}

/**
 * Rules across uses, checked in pipeline order once every use resolved on its own: a service a
 * plugin depends on must be bound by an earlier use when only plugins provide it (train needs
 * the index's vector index); a plugin's payload needs must be met by an earlier use (an
 * embedder after the decoder); then each plugin's own rules (`checkPipeline`). A pipeline that
 * passes these can still fail at run time, but not in a way its file already shows.
 */
export function checkStageOrder(input: StageOrderInput, registry: PluginRegistry): ValidationIssue[] {
  const { deadLetter, source, sink, maxInFlight } = input;
  if (!deadLetter || !source || !sink || maxInFlight === undefined || input.stages.some((s) => !s)) return [];
  const flow = [source, ...(input.stages as readonly ResolvedStage[]), sink];
  const views: PipelineUse[] = flow.map((u) => ({ plugin: u.plugin.name, name: u.name, config: u.config, path: u.path }));
  const services = new ServiceCheck(registry);
  const payload = new PayloadCheck(registry);
  const issues: ValidationIssue[] = [];
  // The dead-letter sink is created first, so what it binds is there for everyone.
  services.check(deadLetter, issues, false);
  flow.forEach((use, i) => {
    services.check(use, issues);
    payload.check(use, issues);
    if (typeof use.plugin.checkPipeline === 'function') issues.push(...runPluginCheck(use, { path: use.path, before: views.slice(0, i), after: views.slice(i + 1), runtime: { maxInFlight } }));
  });
  return issues;
}

/**
 * Only services that some registered plugin declares it provides, and that no factory creates,
 * are checked: the runtime's own services and factory-made ones are always there. After a use
 * that declares nothing (a third-party plugin may bind services without saying so), nothing is.
 */
class ServiceCheck {
  private readonly providers = new Map<symbol, string[]>();
  private readonly factoryMade: Set<symbol>;
  private readonly bound = new Set<symbol>();
  /** Set after a use that does not declare `provides`: its instances may bind anything. */
  private open = false;

  constructor(registry: PluginRegistry) {
    for (const plugin of registry.list()) {
      for (const ref of servicesOf(plugin)) this.providers.set(ref.id, [...(this.providers.get(ref.id) ?? []), plugin.name]);
    }
    this.factoryMade = new Set(registry.serviceFactories().map((f) => f.service.id));
  }

  /** `opens`: whether a use that declares nothing stops the checks after it (not the dead-letter sink, a sink). */
  check(use: ResolvedStage, issues: ValidationIssue[], opens = true): void {
    for (const ref of Object.values(use.plugin.deps) as ServiceRef<unknown>[]) {
      const offeredBy = this.providers.get(ref.id);
      if (this.open || !offeredBy || this.bound.has(ref.id) || ref.defaultFactory || this.factoryMade.has(ref.id)) continue;
      const names = offeredBy.map((n) => JSON.stringify(n)).join(' or ');
      issues.push({
        code: 'TS_ERR_PIPELINE_MISSING_SERVICE',
        path: `${use.path}.use`,
        expected: `a ${names} stage before ${JSON.stringify(use.plugin.name)}`,
        found: 'none',
        message: `${JSON.stringify(use.plugin.name)} needs the ${ref.description} service, which only ${names} provides; add ${offeredBy.length === 1 ? 'that stage' : 'one of them'} before it`,
      });
    }
    for (const ref of servicesOf(use.plugin)) this.bound.add(ref.id);
    if (opens && !use.plugin.provides) this.open = true;
  }
}

/** Payload fields known to be set, from the source on; unknown (unchecked) after a use that does not declare what it provides. */
class PayloadCheck {
  private known: Set<string> | undefined = new Set();

  constructor(private readonly registry: PluginRegistry) {}

  check(use: ResolvedStage, issues: ValidationIssue[]): void {
    const known = this.known;
    const needed = fieldsOf(use.plugin.needs?.payload);
    if (known && needed.length > 0 && !needed.some((f) => known.has(f))) {
      const wanted = needed.map((f) => `payload.${f}`).join(' or ');
      const makers = this.registry
        .list()
        .filter((p) => p !== use.plugin && p.kind === 'stage' && fieldsOf(p.provides?.payload).some((f) => needed.includes(f)))
        .map((p) => JSON.stringify(p.name));
      const have = known.size ? `earlier uses give ${[...known].map((f) => `payload.${f}`).join(', ')}` : 'no earlier use gives a payload field it reads';
      issues.push({
        code: 'TS_ERR_PIPELINE_STAGE_ORDER',
        path: `${use.path}.use`,
        expected: `${wanted} from an earlier use`,
        found: have,
        message: `${JSON.stringify(use.plugin.name)} reads ${wanted}, which no earlier use provides (${have})${makers.length ? `; put ${makers.join(' or ')} before it` : ''}`,
      });
    }
    if (!use.plugin.provides) this.known = undefined;
    else if (known) for (const f of fieldsOf(use.plugin.provides.payload)) known.add(f);
  }
}

/** A plugin's own rule; one that throws or returns garbage is the plugin's fault, reported as such, not a crash of validate. */
function runPluginCheck(use: ResolvedStage, context: PipelineCheckContext): ValidationIssue[] {
  try {
    const found: unknown = use.plugin.checkPipeline!(use.config, context);
    if (Array.isArray(found)) return found.filter((i): i is ValidationIssue => !!i && typeof (i as ValidationIssue).code === 'string' && typeof (i as ValidationIssue).path === 'string');
    throw new Error(`returned ${typeof found}, not an array of issues`);
  } catch (error) {
    return [{ code: 'TS_ERR_PLUGIN_CHECK_FAILED', path: `${use.path}.use`, message: `plugin ${JSON.stringify(use.plugin.name)}'s checkPipeline failed: ${error instanceof Error ? error.message : String(error)}` }];
  }
}

function servicesOf(plugin: StagePlugin): readonly ServiceRef<unknown>[] {
  const list = plugin.provides?.services;
  return Array.isArray(list) ? list.filter((r): r is ServiceRef<unknown> => !!r && typeof r.id === 'symbol') : [];
}

function fieldsOf(list: readonly string[] | undefined): readonly string[] {
  return Array.isArray(list) ? list.filter((f) => typeof f === 'string') : [];
}
