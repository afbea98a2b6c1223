/**
 * How a service comes to exist when no plugin provides it: a factory with its own deps, run on the
 * first request (Backstage's createServiceFactory). Services only some pipelines need (the model
 * registry) then cost nothing in the others, and the runtime never has to know what they are.
 */
import type { DepsShape, ResolvedDeps } from './plugin.ts';
import type { ServiceRef } from './services.ts';

export interface ServiceFactoryDefinition<T, D extends DepsShape = DepsShape> {
  /** Services the factory needs; resolved like a plugin's deps (and created first when they have factories). */
  readonly deps: D;
  create(deps: ResolvedDeps<D>): T | Promise<T>;
}

/** A factory for one service ref, handed to a run by the plugin set (see PluginRegistry.provideService). */
export interface ServiceFactory<T = unknown, D extends DepsShape = DepsShape> extends ServiceFactoryDefinition<T, D> {
  readonly service: ServiceRef<T>;
}

/** Identity function that gives factory authors type inference on deps and the created value. */
export function serviceFactory<T, D extends DepsShape>(factory: ServiceFactory<T, D>): ServiceFactory<T, D> {
  return factory;
}
