import type { PluginKind, StagePlugin } from '../runtime/contracts/plugin.ts';
import type { ServiceFactory } from '../runtime/contracts/service-factory.ts';
import { TemiError } from '../runtime/errors.ts';
import { closestMatch } from '../runtime/schema/closest-match.ts';
import { checkPluginContract } from './check-plugin-contract.ts';

interface Entry {
  readonly plugin: StagePlugin;
  /** Where it came from: "built-in" or the module specifier. */
  readonly origin: string;
}

/**
 * Every plugin a pipeline can `use`, built-in or loaded; names are unique across both. Also the
 * factories of services that the set's plugins share but only some pipelines need (the model
 * registry): a run gets them and creates each on first request.
 */
export class PluginRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly factories = new Map<symbol, { readonly factory: ServiceFactory<unknown, any>; readonly origin: string }>();

  register(plugin: unknown, origin: string): StagePlugin {
    const checked = checkPluginContract(plugin, origin);
    const existing = this.entries.get(checked.name);
    if (existing) {
      throw new TemiError(
        'TS_ERR_PLUGIN_NAME_COLLISION',
        `plugin name "${checked.name}" from ${origin} is already taken by ${existing.origin === 'built-in' ? 'the built-in plugin' : `the plugin from ${existing.origin}`}; rename one of them`,
        { where: origin },
      );
    }
    this.entries.set(checked.name, { plugin: checked, origin });
    return checked;
  }

  /** Adds the factory of a shared service; one per service across the set. */
  provideService(factory: ServiceFactory<any, any>, origin: string): void {
    const existing = this.factories.get(factory.service.id);
    if (existing) {
      throw new TemiError('TS_ERR_SERVICE_FACTORY_COLLISION', `the service "${factory.service.description}" from ${origin} already has a factory from ${existing.origin}; keep one of them`, { where: origin });
    }
    this.factories.set(factory.service.id, { factory, origin });
  }

  serviceFactories(): ServiceFactory<unknown, any>[] {
    return [...this.factories.values()].map((e) => e.factory);
  }

  get(name: string): StagePlugin | undefined {
    return this.entries.get(name)?.plugin;
  }

  originOf(name: string): string | undefined {
    return this.entries.get(name)?.origin;
  }

  /** Nearest registered name, preferring plugins of the wanted kind. */
  suggest(name: string, kind?: PluginKind): string | undefined {
    const ofKind = this.list().filter((p) => !kind || p.kind === kind).map((p) => p.name);
    return closestMatch(name, ofKind) ?? closestMatch(name, this.list().map((p) => p.name));
  }

  list(): StagePlugin[] {
    return [...this.entries.values()].map((e) => e.plugin).sort((a, b) => a.name.localeCompare(b.name));
  }
}
