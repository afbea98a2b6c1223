/**
 * Global test setup: one real Kafka broker shared by every spec file of a run.
 *
 * - KAFKA_BROKERS set in the environment: that cluster is used and nothing is started.
 * - Otherwise a single-node broker starts here (test/support/kafka-broker.ts) on free ports with
 *   a temp data dir, and is stopped and removed after the run. If it cannot start, the run fails
 *   with the reason (jars missing -> "run `npm run setup:kafka`").
 *
 * Spec files read the address with `sharedKafkaBrokers()` from ./kafka-broker.ts, or with the
 * typed `inject('kafkaBrokers')` from vitest. (This file must not import vitest's runtime: global
 * setup runs outside the test workers, where vitest's `inject` cannot load.)
 * The shared broker is never stopped by a test: other files use it at the same time. A test
 * that takes the broker away (stop, kill, restart mid-stream) starts its own private broker
 * with `startKafkaBroker()` and destroys it in afterAll.
 */
import type { TestProject } from 'vitest/node';
import { startKafkaBroker } from './kafka-broker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's shared broker, e.g. "127.0.0.1:40123". */
    kafkaBrokers: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    project.provide('kafkaBrokers', external);
    return async () => {};
  }

  const startedAt = performance.now();
  const broker = await startKafkaBroker();
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`[kafka] shared test broker on ${broker.brokers}, ready in ${seconds} s (log: ${broker.logFile})`);

  // Workers are forked after global setup, so they inherit this too.
  process.env.KAFKA_BROKERS = broker.brokers;
  project.provide('kafkaBrokers', broker.brokers);

  return async () => {
    await broker.destroy();
    delete process.env.KAFKA_BROKERS;
  };
}
