/**
 * What the Kafka source, sink and dead-letter sink share: how to reach the cluster (brokers,
 * client id, TLS, SASL, retry budget) as one config fragment, and a kafkajs client built from it
 * whose log lines go through the pipeline logger. SASL passwords and TLS keys are handed to
 * kafkajs only; they never appear in a log line or an error this module writes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import kafkajs, { type KafkaConfig, type SASLOptions } from 'kafkajs';
import { type Logger, TemiError, s, type InferShape } from '../../runtime/contracts/index.ts';

const { Kafka, logLevel } = kafkajs;
export type KafkaClient = InstanceType<typeof Kafka>;

export const kafkaConnectionShape = {
  brokers: s.array(s.string({ minLength: 1 }), {
    minItems: 1,
    description: 'Bootstrap brokers as host:port; an entry may hold several, comma-separated (e.g. "${env:KAFKA_BROKERS:-localhost:9092}").',
    examples: [['localhost:9092'], ['${env:KAFKA_BROKERS:-localhost:9092}']],
  }),
  clientId: s.string({ minLength: 1, default: 'temi-stream', description: 'Client id the brokers see in their logs and quotas.' }),
  ssl: s.optional(
    s.object(
      {
        rejectUnauthorized: s.boolean({ default: true, description: 'Verify the brokers\' certificates.' }),
        caFile: s.optional(s.string({ minLength: 1, description: 'PEM file with the CA certificates to trust (relative to the pipeline file).' })),
        certFile: s.optional(s.string({ minLength: 1, description: 'PEM client certificate for mutual TLS.' })),
        keyFile: s.optional(s.string({ minLength: 1, description: 'PEM private key for certFile.' })),
      },
      { description: 'Connect over TLS. Present (even as {}) turns TLS on.' },
    ),
  ),
  sasl: s.optional(
    s.object(
      {
        mechanism: s.enum(['plain', 'scram-sha-256', 'scram-sha-512'] as const, { description: 'SASL mechanism.' }),
        username: s.string({ minLength: 1, description: 'SASL user.' }),
        password: s.string({ description: 'SASL password; give it as "${env:NAME}" so it stays out of the file (it is never logged).' }),
      },
      { description: 'SASL authentication (usually together with ssl).' },
    ),
  ),
  connectionTimeoutMs: s.integer({ min: 100, default: 3_000, description: 'Time to establish a TCP/TLS connection.' }),
  requestTimeoutMs: s.integer({ min: 100, default: 30_000, description: 'Time for one request to answer.' }),
  retries: s.integer({
    // kafkajs' idempotent producer refuses to run without retries (sinks are idempotent).
    min: 1,
    default: 30,
    description: 'Retries of a failed request (exponential back-off from 300 ms, capped at 5 s per wait): about two minutes with 30. A sink write fails the run after them; the consumer is restarted and keeps trying.',
  }),
};

export type KafkaConnectionConfig = InferShape<typeof kafkaConnectionShape>;

/** "a:1, b:2" and ["a:1","b:2"] both become ["a:1","b:2"]. */
export function brokerList(entries: readonly string[]): string[] {
  return entries.flatMap((e) => e.split(',')).map((b) => b.trim()).filter((b) => b.length > 0);
}

export function createKafkaClient(config: KafkaConnectionConfig, options: { baseDir: string; logger: Logger; where: string }): KafkaClient {
  const brokers = brokerList(config.brokers);
  if (brokers.length === 0) throw new TemiError('TS_ERR_KAFKA_CONFIG', 'no brokers given (is the environment variable empty?)', { where: `${options.where}.brokers` });
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: config.retries },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      // kafkajs retries by itself and logs every failed attempt at ERROR; for a pipeline those
      // are warnings until the retry budget is spent, which surfaces as a thrown error.
      const { message, ...extra } = entry.log;
      // Exactly-once is not promised here (at-least-once, duplicates resolved by id downstream), so
      // kafkajs's warning that a bounded retry budget weakens it is noise for this pipeline.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      const fields = { namespace: entry.namespace, broker: (extra as { broker?: unknown }).broker, error: (extra as { error?: unknown }).error };
      if (entry.level <= logLevel.WARN) options.logger.warn(`kafka: ${message}`, fields);
      else options.logger.debug(`kafka: ${message}`, fields);
    },
  };
  if (config.ssl) {
    const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(resolve(options.baseDir, file), 'utf8'));
    kafkaConfig.ssl = { rejectUnauthorized: config.ssl.rejectUnauthorized, ca: read(config.ssl.caFile), cert: read(config.ssl.certFile), key: read(config.ssl.keyFile) };
  }
  if (config.sasl) kafkaConfig.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password } as SASLOptions;
  return new Kafka(kafkaConfig);
}
