/**
 * A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for tests and
 * benches. The broker's configuration lives in scripts/kafka/start.sh; this module chooses free
 * ports and a data dir, runs that script in the foreground as a child process, waits until the
 * broker answers a metadata request, and can stop, kill and restart it on the same port and
 * data dir, so a test can take the broker away from a running pipeline and give it back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { TemiError } from '../../src/runtime/errors.ts';

const { Kafka, logLevel } = kafkajs;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const startScript = join(repoRoot, 'scripts/kafka/start.sh');
const defaultLibsDir = join(repoRoot, '.kafka/libs');

/**
 * Bootstrap address of the broker every spec file shares: the one global setup started, or the
 * cluster named by KAFKA_BROKERS. Tests must not stop it; see startKafkaBroker for one they may.
 */
export function sharedKafkaBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS?.trim();
  if (!brokers) {
    throw new TemiError(
      'TS_ERR_KAFKA_BROKER_NOT_SET',
      'KAFKA_BROKERS is not set: run the specs through vitest (its global setup starts a broker) or set KAFKA_BROKERS=host:port',
    );
  }
  return brokers;
}

export interface KafkaBrokerOptions {
  /** Where the broker keeps its logs/partitions; a fresh temp dir (removed by destroy) when absent. */
  dataDir?: string;
  /** Client port on 127.0.0.1; a free one when absent. */
  port?: number;
  /** KRaft controller port on 127.0.0.1; a free one when absent. */
  controllerPort?: number;
  /** How long a start may take before it counts as failed. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** Directory with the Kafka jars; $KAFKA_LIBS_DIR, else .kafka/libs (filled by `npm run setup:kafka`). */
  libsDir?: string;
  /**
   * Also listen with SASL_SSL (TLS + SASL PLAIN/SCRAM) on a free port: `dir` holds broker.pem and
   * plain-users, as scripts/kafka/start.sh --secure-dir describes; with `mutualTls`, also with SSL
   * requiring a client certificate signed by `dir`/ca.pem.
   */
  secure?: { dir: string; mutualTls?: boolean };
}

export interface KafkaBroker {
  /** Bootstrap address for clients, e.g. "127.0.0.1:40123". Unchanged by restarts. */
  readonly brokers: string;
  /** The SASL_SSL listener's address when started with `secure`. */
  readonly secureBrokers?: string;
  /** The mutual-TLS listener's address when started with `secure.mutualTls`. */
  readonly mutualTlsBrokers?: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  /** The broker's stdout/stderr, appended to on every start. */
  readonly logFile: string;
  /** The JVM's pid while it runs, undefined once stopped or killed. */
  pid(): number | undefined;
  /** Clean shutdown (SIGTERM, SIGKILL after the grace period). Data stays; restart() brings it back. */
  stop(): Promise<void>;
  /** Abrupt death (SIGKILL), as in a crash. Data written before stays; restart() recovers it. */
  kill(): Promise<void>;
  /** Stops the broker if it runs, then starts it again on the same ports and data dir. */
  restart(): Promise<void>;
  /** Stops the broker and removes its data dir if this harness created it. */
  destroy(): Promise<void>;
}

/** Starts a broker and resolves once it answers clients; rejects with the reason and the log tail. */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const libsDir = options.libsDir ?? process.env.KAFKA_LIBS_DIR ?? defaultLibsDir;
  assertJarsPresent(libsDir);

  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'temi-kafka-'));
  const logFile = join(dataDir, 'broker.log');
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const stopGraceMs = options.stopGraceMs ?? 15_000;

  let port = options.port ?? (await findFreePort());
  let controllerPort = options.controllerPort ?? (await findFreePort([port]));
  let secure: LaunchSettings['secure'];
  if (options.secure) {
    const securePort = await findFreePort([port, controllerPort]);
    const mtlsPort = options.secure.mutualTls ? await findFreePort([port, controllerPort, securePort]) : undefined;
    secure = { dir: options.secure.dir, port: securePort, mtlsPort };
  }
  const portsChosenHere = options.port === undefined && options.controllerPort === undefined;

  let child: RunningBroker | undefined;

  // Free ports are found by binding and releasing them, so another process can take one in
  // between; a first start that loses that race simply picks new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      child = await launch({ port, controllerPort, dataDir, logFile, libsDir, startTimeoutMs, secure });
      break;
    } catch (error) {
      const canRetry = portsChosenHere && attempt < 3 && error instanceof BindError;
      if (!canRetry) {
        if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
      port = await findFreePort();
      controllerPort = await findFreePort([port]);
    }
  }

  const brokers = `127.0.0.1:${port}`;

  const stop = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const running = child;
    child = undefined;
    if (running) await terminate(running, signal, stopGraceMs);
  };

  const broker: KafkaBroker = {
    brokers,
    ...(secure ? { secureBrokers: `127.0.0.1:${secure.port}` } : {}),
    ...(secure?.mtlsPort ? { mutualTlsBrokers: `127.0.0.1:${secure.mtlsPort}` } : {}),
    port,
    controllerPort,
    dataDir,
    logFile,
    pid: () => child?.process.pid,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    async restart() {
      await stop('SIGTERM');
      child = await launchOnSamePorts({ port, controllerPort, dataDir, logFile, libsDir, startTimeoutMs, secure });
    },
    async destroy() {
      await stop('SIGTERM');
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return broker;
}

function assertJarsPresent(libsDir: string): void {
  const hasBrokerJar = existsSync(libsDir) && readdirSync(libsDir).some((name) => /^kafka_2\.13-.*\.jar$/.test(name));
  if (!hasBrokerJar) {
    throw new TemiError('TS_ERR_KAFKA_BROKER_JARS_MISSING', 'no Apache Kafka jars found: run `npm run setup:kafka` first', {
      where: libsDir,
    });
  }
}

interface LaunchSettings {
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  libsDir: string;
  startTimeoutMs: number;
  secure?: { dir: string; port: number; mtlsPort?: number };
}

interface RunningBroker {
  process: ChildProcess;
  exited: Promise<void>;
  hasExited: () => boolean;
}

/** The port was taken by someone else: a start on other ports may succeed. */
class BindError extends TemiError {}

async function launch(settings: LaunchSettings): Promise<RunningBroker> {
  const logOffset = existsSync(settings.logFile) ? readFileSync(settings.logFile).length : 0;
  const logFd = openSync(settings.logFile, 'a');
  let running: RunningBroker;
  try {
    const child = spawn(
      'bash',
      [
        startScript,
        '--foreground',
        '--port', String(settings.port),
        '--controller-port', String(settings.controllerPort),
        '--data-dir', settings.dataDir,
        ...(settings.secure ? ['--secure-port', String(settings.secure.port), '--secure-dir', settings.secure.dir] : []),
        ...(settings.secure?.mtlsPort ? ['--mtls-port', String(settings.secure.mtlsPort)] : []),
      ],
      { stdio: ['ignore', logFd, logFd], env: { ...process.env, KAFKA_LIBS_DIR: settings.libsDir } },
    );
    running = track(child);
  } finally {
    closeSync(logFd);
  }

  try {
    await waitUntilAnswering(`127.0.0.1:${settings.port}`, running, settings.startTimeoutMs);
    return running;
  } catch (error) {
    await terminate(running, 'SIGKILL', 0);
    const logTail = readLogSince(settings.logFile, logOffset);
    const reason = error instanceof Error ? error.message : String(error);
    const details = { logFile: settings.logFile, logTail };
    const message = `the Kafka broker did not start: ${reason}\n--- errors and last lines of ${settings.logFile} ---\n${logTail}`;
    if (/Address already in use/i.test(logTail)) {
      throw new BindError('TS_ERR_KAFKA_BROKER_START', message, { where: `127.0.0.1:${settings.port}`, details });
    }
    throw new TemiError('TS_ERR_KAFKA_BROKER_START', message, { where: `127.0.0.1:${settings.port}`, details });
  }
}

/** A restart must keep the address clients know; the port may stay busy for a moment after a stop. */
async function launchOnSamePorts(settings: LaunchSettings): Promise<RunningBroker> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(settings);
    } catch (error) {
      if (!(error instanceof BindError) || attempt >= 10) throw error;
      await sleep(500);
    }
  }
}

function track(child: ChildProcess): RunningBroker {
  let exited = false;
  // An orphaned JVM would hold half a gigabyte after a test run dies; killing it on our exit
  // covers crashes and process.exit, though not a SIGKILL of this process.
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const exitedPromise = new Promise<void>((resolve) => {
    const onGone = (): void => {
      exited = true;
      process.off('exit', killOnExit);
      resolve();
    };
    child.once('exit', onGone);
    child.once('error', onGone);
  });
  return {
    process: child,
    exited: exitedPromise,
    hasExited: () => exited,
  };
}

async function terminate(running: RunningBroker, signal: 'SIGTERM' | 'SIGKILL', graceMs: number): Promise<void> {
  if (running.hasExited()) return;
  running.process.kill(signal);
  if (signal === 'SIGKILL') {
    await running.exited;
    return;
  }
  const stoppedInTime = (await within(running.exited, graceMs)) !== TIMED_OUT;
  if (!stoppedInTime) {
    running.process.kill('SIGKILL');
    await running.exited;
  }
}

/** Ready means a client can fetch cluster metadata, which is what every producer/consumer does first. */
async function waitUntilAnswering(brokers: string, running: RunningBroker, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    clientId: 'temi-kafka-harness',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (running.hasExited()) throw new Error(describeExit(running));
    const admin = kafka.admin();
    const probe = (async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    })();
    // Someone else's server on the port may accept and never answer, and the broker may die
    // mid-probe: neither may keep this loop waiting.
    const answered = probe.then(
      (ready) => (ready ? 'ready' : 'not-ready'),
      (error: unknown) => {
        lastError = error;
        return 'not-ready';
      },
    );
    const outcome = await within(Promise.race([answered, running.exited.then(() => 'exited' as const)]), 3_000);
    void admin.disconnect().catch(() => undefined);
    if (outcome === 'ready') return;
    if (outcome === 'exited') throw new Error(describeExit(running));
    if (outcome === TIMED_OUT) lastError = new Error('a probe got no answer within 3 s');
    await within(running.exited, 250);
  }
  const last = lastError instanceof Error ? `; last client error: ${lastError.message}` : '';
  throw new Error(`no answer from ${brokers} within ${timeoutMs} ms${last}`);
}

const TIMED_OUT = Symbol('timed out');

/** `promise`'s value, or TIMED_OUT after `ms`; the timer never outlives the wait (it would hold the process open). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeExit(running: RunningBroker): string {
  const { exitCode, signalCode } = running.process;
  return `the broker process exited (${signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`})`;
}

/** The first errors say why a start failed; the last lines say where it ended up. */
function readLogSince(logFile: string, offset: number): string {
  if (!existsSync(logFile)) return '(no log written)';
  const lines = readFileSync(logFile).subarray(offset).toString('utf8').trimEnd().split('\n');
  if (lines.length === 1 && lines[0] === '') return '(log empty)';
  const errors = lines.filter((line) => /\b(ERROR|FATAL)\b|^Caused by:|^kafka start:/.test(line)).slice(0, 8);
  const tail = lines.slice(-15);
  return errors.length === 0 ? tail.join('\n') : [...errors, '...', ...tail].join('\n');
}

/** Binds port 0 on 127.0.0.1 to let the OS pick a free port, then releases it for the broker. */
export function findFreePort(avoid: number[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') {
          reject(new Error('could not read the port the OS assigned'));
          return;
        }
        if (avoid.includes(address.port)) findFreePort(avoid).then(resolve, reject);
        else resolve(address.port);
      });
    });
  });
}
