import { Container } from 'inversify';
import type { DepsShape, ResolvedDeps } from './contracts/plugin.ts';
import type { ServiceFactory, ServiceFactoryDefinition } from './contracts/service-factory.ts';
import type { ServiceRef } from './contracts/services.ts';
import { TemiError, isTemiError, reasonOf } from './errors.ts';

/** Who put a service into the container, for errors that must name both sides of a clash. */
export interface ServiceOwner {
  /** "the runtime", or a plugin name. */
  readonly plugin: string;
  /** The plugin's instance name in the pipeline. */
  readonly instance?: string;
  /** JSON path of the plugin's use in the pipeline file. */
  readonly where?: string;
  /** Set when a factory created the service on this owner's request. */
  readonly byFactory?: boolean;
}

/** Who is asking for a service: a plugin's deps, or a factory's on its behalf. */
interface Request {
  readonly plugin: string;
  readonly where: string;
  /** What asked: "deps.registry", or "the factory of modelRegistry". */
  readonly asking: string;
  /** Services being created further up this request, to refuse a factory cycle instead of waiting on itself. */
  readonly creating: readonly symbol[];
}

export const RUNTIME_OWNER: ServiceOwner = { plugin: 'the runtime' };

/**
 * The pipeline's inversify container, reduced to what plugins need: bind a service once under its
 * ref, and resolve a plugin's declared deps (failing with the plugin's name when one is missing).
 * A service nobody bound is created on first request by its factory: one the plugin set handed
 * to the run (provide), else the ref's own default factory. inversify is used without decorators:
 * every binding is a constant.
 */
export class ServiceContainer {
  private readonly container = new Container();
  private readonly owners = new Map<symbol, ServiceOwner>();
  private readonly factories = new Map<symbol, ServiceFactory<unknown, any>>();
  private readonly pending = new Map<symbol, Promise<unknown>>();

  /** Binds a service; a second binding of the same ref is a mistake in the pipeline (two index stages), never a silent replacement. */
  bind<T>(ref: ServiceRef<T>, value: T, owner: ServiceOwner = RUNTIME_OWNER): void {
    const first = this.owners.get(ref.id);
    if (first) {
      throw new TemiError(
        'TS_ERR_SERVICE_ALREADY_BOUND',
        `${describeOwner(owner)} provides the service "${ref.description}", which ${describeOwner(first)} already provides; a pipeline holds one of each, so remove one of them`,
        { where: owner.where ?? first.where },
      );
    }
    this.owners.set(ref.id, owner);
    this.container.bind(ref.id).toConstantValue(value);
  }

  /** Registers a factory for a service that only some pipelines need; it runs on the first request, if any. */
  provide(factory: ServiceFactory<unknown, any>): void {
    this.factories.set(factory.service.id, factory);
  }

  /** True once the service exists (bound, or created by its factory). */
  has(ref: ServiceRef<unknown>): boolean {
    return this.owners.has(ref.id);
  }

  async resolveDeps<D extends DepsShape>(deps: D, pluginName: string, where: string): Promise<ResolvedDeps<D>> {
    return this.resolveAll(deps, { plugin: pluginName, where, asking: '', creating: [] });
  }

  private async resolveAll<D extends DepsShape>(deps: D, request: Request): Promise<ResolvedDeps<D>> {
    const out: Record<string, unknown> = {};
    for (const [key, ref] of Object.entries(deps)) {
      out[key] = await this.resolve(ref, { ...request, asking: request.asking || `deps.${key}` });
    }
    return out as ResolvedDeps<D>;
  }

  private async resolve<T>(ref: ServiceRef<T>, request: Request): Promise<T> {
    if (this.owners.has(ref.id)) return this.container.get<T>(ref.id);
    const factory = (this.factories.get(ref.id) as ServiceFactoryDefinition<T, any> | undefined) ?? ref.defaultFactory;
    if (!factory) {
      throw new TemiError(
        'TS_ERR_PLUGIN_MISSING_SERVICE',
        `plugin "${request.plugin}" needs the service "${ref.description}" (${request.asking}), which neither the runtime nor an earlier stage provides`,
        { where: request.where },
      );
    }
    if (request.creating.includes(ref.id)) {
      throw new TemiError('TS_ERR_SERVICE_FACTORY_CYCLE', `the factory of the service "${ref.description}" needs that service itself (through ${request.asking}); break the cycle in its deps`, { where: request.where });
    }
    let creation = this.pending.get(ref.id) as Promise<T> | undefined;
    if (!creation) {
      creation = this.create(ref, factory, request);
      this.pending.set(ref.id, creation);
    }
    return creation;
  }

  private async create<T>(ref: ServiceRef<T>, factory: ServiceFactoryDefinition<T, any>, request: Request): Promise<T> {
    const deps = await this.resolveAll(factory.deps, { ...request, asking: `the factory of "${ref.description}"`, creating: [...request.creating, ref.id] });
    let value: T;
    try {
      value = await factory.create(deps);
    } catch (error) {
      if (isTemiError(error)) throw error;
      throw new TemiError('TS_ERR_SERVICE_CREATE_FAILED', `the service "${ref.description}", which plugin "${request.plugin}" needs, could not be created: ${reasonOf(error)}`, { where: request.where, cause: error });
    }
    this.bind(ref, value, { plugin: request.plugin, where: request.where, byFactory: true });
    return value;
  }
}

function describeOwner(owner: ServiceOwner): string {
  if (owner === RUNTIME_OWNER || owner.where === undefined) return owner.plugin;
  const instance = owner.instance && owner.instance !== owner.plugin ? ` (${owner.instance})` : '';
  if (owner.byFactory) return `the service's factory (run for plugin "${owner.plugin}" at ${owner.where})`;
  return `plugin "${owner.plugin}"${instance} at ${owner.where}`;
}
