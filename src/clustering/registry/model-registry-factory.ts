import { clusteringServices, serviceFactory, services } from '../../runtime/contracts/index.ts';
import { selectBackend } from '../../tf/backends.ts';
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
    // The registry is made while plugins are created, before any stage's start() has chosen a
    // TensorFlow.js backend. A saved model becomes tensors as it loads, and with no backend chosen
    // yet TensorFlow.js would fall back to its pure-JS one (printing its "install tfjs-node"
    // banner) even where native TensorFlow is provisioned. So choose first, as the stages' default
    // 'auto' would; a stage configured otherwise switches at its start and tensors follow.
    await registry.load(() => selectBackend('auto', (line) => logger.debug(line)));
    return registry;
  },
});
