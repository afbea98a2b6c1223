import { clusteringServices, serviceFactory, services } from '../../runtime/contracts/index.ts';
import { PersistentModelRegistry } from './model-registry.ts';

/**
 * The model registry, created when the first plugin of a run asks for it (train, assign,
 * evaluate, model-follow/-publish, or a third-party plugin): the last published version is loaded
 * from the state directory before anyone sees it. A pipeline without such a plugin never reads it.
 */
export const modelRegistryFactory = serviceFactory({
  service: clusteringServices.modelRegistry,
  deps: { state: services.state, clock: services.clock, logger: services.logger },
  async create({ state, clock, logger }) {
    const registry = new PersistentModelRegistry(state, clock, logger);
    await registry.load();
    return registry;
  },
});
