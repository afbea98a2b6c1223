/**
 * The Kafka plugins over TLS with SASL (PLAIN, SCRAM) and over mutual TLS, as managed Kafka
 * services run them, against a real broker of this spec's own with SASL_SSL and SSL listeners
 * (scripts/kafka/start.sh --secure-port, --mtls-port) and a certificate authority made here with openssl.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, hasAll, kafkaPipeline, pngMessages, produce, quietKafka, readUntil, unique, type KafkaClient } from './support/kafka-test-kit.ts';
import { startPipeline } from './support/running-pipeline.ts';

const USER = 'temi-pipeline';
const PASSWORD = 'pl41n-s3cret-for-the-spec';
let certs: string;
let broker: KafkaBroker;
/** Over the plaintext listener: topic set-up and reading the results, not under test here. */
let plain: KafkaClient;

/** A CA, and a broker certificate it signed for 127.0.0.1, in the layout start.sh expects. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=temi-stream test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker-key.pem', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'broker-cert.pem', '-days', '2', '-extfile', 'san.ext');
  // Kafka's PEM keystore: the private key as unencrypted PKCS#8, then the certificate chain.
  const key = openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'broker-key.pem').toString();
  writeFileSync(join(dir, 'broker.pem'), key + readFileSync(join(dir, 'broker-cert.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'));
  writeFileSync(join(dir, 'plain-users'), `${USER}:${PASSWORD}\n`);
  // A client certificate from the same CA, for the mutual-TLS listener.
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client-key.pem', '-out', 'client.csr', '-subj', '/CN=temi-stream pipeline');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'client-cert.pem', '-days', '2');
}

beforeAll(async () => {
  certs = await tempDir('kafka-certs-');
  makeCertificates(certs);
  broker = await startKafkaBroker({ secure: { dir: certs, mutualTls: true } });
  plain = quietKafka(broker.brokers);
});

afterAll(async () => {
  await broker?.destroy();
});

function securePipeline(t: ReturnType<typeof topics>, dir: string, connection: Record<string, unknown>, brokers = broker.secureBrokers!) {
  return kafkaPipeline({ brokers, ...t, stateDir: dir, connection });
}

function topics(name: string) {
  return { input: unique(`${name}-in`), labels: unique(`${name}-labels`), deadLetters: unique(`${name}-dlq`), groupId: unique(`${name}-group`) };
}

describe('kafka plugins over SASL_SSL', () => {
  it.each(['plain', 'scram-sha-512'] as const)('reads images and writes labels over TLS with SASL %s, the password coming from the environment and never logged', async (mechanism) => {
    const t = topics(`tls-${mechanism}`);
    await createTopics(plain, [t.input, t.labels, t.deadLetters], 2);
    const messages = await pngMessages(`${mechanism}-`, 40);
    // The producer side goes through the secure listener too.
    const secureClient = new kafkajs.Kafka({
      clientId: 'tls-spec-producer',
      brokers: [broker.secureBrokers!],
      ssl: { ca: [readFileSync(join(certs, 'ca.pem'), 'utf8')] },
      sasl: { mechanism: 'plain', username: USER, password: PASSWORD },
      logLevel: kafkajs.logLevel.NOTHING,
    });
    await produce(secureClient, t.input, messages, 2);

    process.env.TEMI_SPEC_KAFKA_PASSWORD = PASSWORD;
    const dir = await tempDir('kafka-tls-');
    const running = await startPipeline(
      securePipeline(t, dir, { ssl: { caFile: join(certs, 'ca.pem') }, sasl: { mechanism, username: USER, password: '${env:TEMI_SPEC_KAFKA_PASSWORD}' }, clientId: 'tls-spec' }),
      dir,
    );
    const labels = await readUntil(plain, t.labels, hasAll(messages.map((m) => m.key)));
    const summary = await running.stop();
    expect(new Set(labels.map((m) => m.key)).size).toBe(40);
    expect(summary.written).toBeGreaterThanOrEqual(40);
    expect(running.logs.text).not.toContain(PASSWORD);
  });

  it('fails to start, naming the plugin that could not connect (its JSON path) and the SASL failure, when the password is wrong', async () => {
    const t = topics('badpass');
    await createTopics(plain, [t.input, t.labels, t.deadLetters]);
    const dir = await tempDir('kafka-tls-');
    const running = await startPipeline(securePipeline(t, dir, { ssl: { caFile: join(certs, 'ca.pem') }, sasl: { mechanism: 'plain', username: USER, password: 'not-the-password' }, retries: 1 }), dir);
    const failure = await running.finished.then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/TS_ERR_STAGE_START_FAILED: \$\.(source|sink|deadLetter): plugin "kafka/);
    expect(String(failure)).toMatch(/SASL PLAIN authentication failed|Authentication failed/i);
    expect(String(failure)).not.toContain('not-the-password');
  });

  it('refuses a broker whose certificate it cannot verify (no caFile for a private CA)', async () => {
    const t = topics('untrusted');
    await createTopics(plain, [t.input, t.labels, t.deadLetters]);
    const dir = await tempDir('kafka-tls-');
    const running = await startPipeline(securePipeline(t, dir, { ssl: {}, sasl: { mechanism: 'plain', username: USER, password: PASSWORD }, retries: 1 }), dir);
    const failure = await running.finished.then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/TS_ERR_STAGE_START_FAILED: \$\.(source|sink|deadLetter): plugin "kafka/);
    expect(String(failure)).toMatch(/certificate/i);
  });
});

describe('kafka plugins over mutual TLS', () => {
  it('reads images and writes labels with a client certificate (certFile, keyFile) the broker requires', async () => {
    const t = topics('mtls');
    await createTopics(plain, [t.input, t.labels, t.deadLetters]);
    const messages = await pngMessages('mtls-', 30);
    await produce(plain, t.input, messages);
    const dir = await tempDir('kafka-mtls-');
    const ssl = { caFile: join(certs, 'ca.pem'), certFile: join(certs, 'client-cert.pem'), keyFile: join(certs, 'client-key.pem') };
    const running = await startPipeline(securePipeline(t, dir, { ssl }, broker.mutualTlsBrokers!), dir);
    const labels = await readUntil(plain, t.labels, hasAll(messages.map((m) => m.key)));
    await running.stop();
    expect(new Set(labels.map((m) => m.key)).size).toBe(30);
  });

  it('fails to start, naming the plugin, when the broker requires a client certificate and none is given', async () => {
    const t = topics('mtls-nocert');
    await createTopics(plain, [t.input, t.labels, t.deadLetters]);
    const dir = await tempDir('kafka-mtls-');
    const running = await startPipeline(securePipeline(t, dir, { ssl: { caFile: join(certs, 'ca.pem') }, retries: 1 }, broker.mutualTlsBrokers!), dir);
    const failure = await running.finished.then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/TS_ERR_STAGE_START_FAILED: \$\.(source|sink|deadLetter): plugin "kafka/);
    expect(String(failure)).toMatch(/bad certificate/);
  });
});
