import { defineConfig } from 'vitest/config';

// Integration specs share one real Kafka broker (started in globalSetup) and the machine has
// two cores, so files run in a small fork pool with generous timeouts for CPU-bound training.
export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'examples/**/*.spec.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
