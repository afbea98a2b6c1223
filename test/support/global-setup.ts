// Global test setup. The Kafka broker harness plugs in here (see scripts/kafka and
// test/support/kafka-broker.ts once present); every other spec needs nothing global.
export default async function setup(): Promise<() => Promise<void>> {
  return async () => {};
}
