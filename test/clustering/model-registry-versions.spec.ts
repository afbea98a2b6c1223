import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KMeansModel } from '../../src/clustering/kmeans/kmeans-model.ts';
import { PersistentModelRegistry } from '../../src/clustering/registry/model-registry.ts';
import type { Logger } from '../../src/runtime/contracts/services.ts';
import { FileStateStore } from '../../src/runtime/services/file-state-store.ts';
import { systemClock } from '../../src/runtime/services/system-clock.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const model = (centre: number) => new KMeansModel(2, 1, Float32Array.of(centre, centre + 1), 'euclidean', 1);

describe('model registry versions', () => {
  // Regression: the bootstrap and the first training round published at once (the demo with a
  // round due right after the bootstrap), both as version 1, so two models' cluster ids were
  // emitted under one version and the first-emitted ACC fell to 0.33.
  it('two publishes at once get two versions, in the order they were asked for', async () => {
    const registry = new PersistentModelRegistry(new FileStateStore(await mkdtemp(join(tmpdir(), 'temi-registry-'))), systemClock, quiet);
    const [first, second] = await Promise.all([registry.publish(model(0), { trainedOn: 2000 }), registry.publish(model(5), { trainedOn: 2560 })]);
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(registry.current()?.version).toBe(2);
    expect(registry.current()?.trainedOn).toBe(2560);
  });
});
