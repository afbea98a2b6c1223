import 'reflect-metadata';
import { Container } from 'inversify';
import type { DepsShape, ResolvedDeps } from './contracts/plugin.ts';
import type { ServiceRef } from './contracts/services.ts';
import { TemiError } from './errors.ts';

/**
 * The pipeline's inversify container, reduced to what plugins need: bind a service under its
 * ref, and resolve a plugin's declared deps (failing with the plugin's name when one is missing).
 */
export class ServiceContainer {
  private readonly container = new Container();

  bind<T>(ref: ServiceRef<T>, value: T): void {
    if (this.container.isBound(ref.id)) this.container.unbindSync(ref.id);
    this.container.bind(ref.id).toConstantValue(value);
  }

  get<T>(ref: ServiceRef<T>): T {
    return this.container.get<T>(ref.id);
  }

  resolveDeps<D extends DepsShape>(deps: D, pluginName: string, where: string): ResolvedDeps<D> {
    const out: Record<string, unknown> = {};
    for (const [key, ref] of Object.entries(deps)) {
      if (!this.container.isBound(ref.id)) {
        throw new TemiError(
          'TS_ERR_PLUGIN_MISSING_SERVICE',
          `plugin "${pluginName}" needs the service "${ref.description}" (deps.${key}), which neither the runtime nor an earlier stage provides`,
          { where },
        );
      }
      out[key] = this.container.get(ref.id);
    }
    return out as ResolvedDeps<D>;
  }
}
