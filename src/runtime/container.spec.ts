import { describe, expect, it } from 'vitest';
import { ServiceContainer } from './container.ts';
import { serviceFactory } from './contracts/service-factory.ts';
import { serviceRef, services, type Clock } from './contracts/services.ts';

const clock: Clock = { now: () => 42 };

/** A service that records how often it was built, as a registry loading its file would. */
class Counted {
  static built = 0;
  constructor(readonly at: number) {
    Counted.built++;
  }
}

describe('ServiceContainer', () => {
  it('refuses a second binding of a service, naming the plugin that bound it first and the second, at the second one\'s JSON path', () => {
    const c = new ServiceContainer();
    const index = serviceRef<{ size: number }>('vectorIndex');
    c.bind(index, { size: 1 }, { plugin: 'index', instance: 'index', where: '$.stages[2]' });
    expect(() => c.bind(index, { size: 2 }, { plugin: 'index', instance: 'index-b', where: '$.stages[3]' })).toThrow(
      'TS_ERR_SERVICE_ALREADY_BOUND: $.stages[3]: plugin "index" (index-b) at $.stages[3] provides the service "vectorIndex", which plugin "index" at $.stages[2] already provides',
    );
  });

  it('refuses a plugin that provides a service the runtime binds', () => {
    const c = new ServiceContainer();
    c.bind(services.clock, clock);
    expect(() => c.bind(services.clock, clock, { plugin: 'my-clock', where: '$.stages[0]' })).toThrow(/TS_ERR_SERVICE_ALREADY_BOUND: \$\.stages\[0\]: plugin "my-clock" at \$\.stages\[0\] provides the service "clock", which the runtime already provides/);
  });

  it('creates a provided factory\'s service on the first request only, once, with the factory\'s own deps', async () => {
    const c = new ServiceContainer();
    c.bind(services.clock, clock);
    const counted = serviceRef<Counted>('test.counted-once');
    c.provide(serviceFactory({ service: counted, deps: { clock: services.clock }, create: ({ clock }) => new Counted(clock.now()) }));
    const before = Counted.built;
    expect(c.has(counted)).toBe(false);
    const first = await c.resolveDeps({ it: counted }, 'a', '$.stages[0]');
    const second = await c.resolveDeps({ it: counted, clock: services.clock }, 'b', '$.stages[1]');
    expect(Counted.built - before).toBe(1);
    expect(first.it).toBe(second.it);
    expect(first.it.at).toBe(42);
  });

  it('falls back to the default factory a ref carries', async () => {
    const c = new ServiceContainer();
    c.bind(services.clock, clock);
    const withDefault = serviceRef<Counted>('test.with-default', { defaultFactory: { deps: { clock: services.clock }, create: ({ clock }: { clock: Clock }) => new Counted(clock.now() + 1) } });
    const { it: value } = await c.resolveDeps({ it: withDefault }, 'a', '$.sink');
    expect(value.at).toBe(43);
  });

  it('names the plugin and the dep when a service has neither a binding nor a factory', async () => {
    const c = new ServiceContainer();
    await expect(c.resolveDeps({ index: serviceRef<unknown>('vectorIndex') }, 'train', '$.stages[3]')).rejects.toThrow(
      'TS_ERR_PLUGIN_MISSING_SERVICE: $.stages[3]: plugin "train" needs the service "vectorIndex" (deps.index), which neither the runtime nor an earlier stage provides',
    );
  });

  it('refuses a factory that needs its own service instead of waiting on itself', async () => {
    const c = new ServiceContainer();
    const a = serviceRef<number>('test.cycle-a');
    const b = serviceRef<number>('test.cycle-b');
    c.provide(serviceFactory({ service: a, deps: { b }, create: ({ b }) => b + 1 }));
    c.provide(serviceFactory({ service: b, deps: { a }, create: ({ a }) => a + 1 }));
    await expect(c.resolveDeps({ a }, 'p', '$.stages[0]')).rejects.toThrow(/TS_ERR_SERVICE_FACTORY_CYCLE: \$\.stages\[0\]: the factory of the service "test.cycle-a" needs that service itself/);
  });

  it('says which service failed to be created and for which plugin', async () => {
    const c = new ServiceContainer();
    const broken = serviceRef<number>('test.broken');
    c.provide(serviceFactory({ service: broken, deps: {}, create: () => Promise.reject(new Error('disk full')) }));
    await expect(c.resolveDeps({ broken }, 'assign', '$.stages[4]')).rejects.toThrow('TS_ERR_SERVICE_CREATE_FAILED: $.stages[4]: the service "test.broken", which plugin "assign" needs, could not be created: disk full');
  });

  it('refuses a plugin that provides a service its factory already created', async () => {
    const c = new ServiceContainer();
    const registry = serviceRef<number>('test.registry');
    c.provide(serviceFactory({ service: registry, deps: {}, create: () => 1 }));
    await c.resolveDeps({ registry }, 'assign', '$.stages[1]');
    expect(() => c.bind(registry, 2, { plugin: 'model-follow', where: '$.stages[2]' })).toThrow(
      /provides the service "test.registry", which the service's factory \(run for plugin "assign" at \$\.stages\[1\]\) already provides/,
    );
  });
});
