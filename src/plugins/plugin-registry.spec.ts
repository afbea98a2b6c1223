import { describe, expect, it } from 'vitest';
import { modelRegistryFactory } from '../clustering/registry/model-registry-factory.ts';
import { clusteringServices, serviceFactory } from '../runtime/contracts/index.ts';
import { createRegistryWithBuiltins } from './builtin-plugins.ts';
import { PluginRegistry } from './plugin-registry.ts';

describe('PluginRegistry service factories', () => {
  it('hands the built-in set\'s model registry factory to every pipeline it resolves', () => {
    expect(createRegistryWithBuiltins().serviceFactories().map((f) => f.service.description)).toEqual(['modelRegistry']);
  });

  it('refuses a second factory for the same service, naming where each came from', () => {
    const registry = new PluginRegistry();
    registry.provideService(modelRegistryFactory, 'built-in');
    // A module shipping its own registry factory, for the same service ref.
    const another = serviceFactory({ ...modelRegistryFactory, service: clusteringServices.modelRegistry });
    expect(() => registry.provideService(another, './my-registry.ts')).toThrow(
      'TS_ERR_SERVICE_FACTORY_COLLISION: ./my-registry.ts: the service "modelRegistry" from ./my-registry.ts already has a factory from built-in; keep one of them',
    );
  });
});
