/**
 * Runs a stage plugin's operator with the runtime's real services (pino logger into memory,
 * prom-client metrics, in-flight limiter, record factory, dead-letter router writing the
 * dead-letter sink's JSON lines), without a source or sink plugin in between.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Observable } from 'rxjs';
import type { SinkInstance, StageInstance, StagePlugin } from '../../../../src/runtime/contracts/plugin.ts';
import type { DecodedPixels, StreamRecord } from '../../../../src/runtime/contracts/record.ts';
import { services, type PipelineInfo } from '../../../../src/runtime/contracts/services.ts';
import { ServiceContainer } from '../../../../src/runtime/container.ts';
import { InFlightLimiter } from '../../../../src/runtime/flow/in-flight-limiter.ts';
import { DefaultRecordFactory } from '../../../../src/runtime/records/record-factory.ts';
import { DeadLetterRouter } from '../../../../src/runtime/services/dead-letter-router.ts';
import { FileStateStore } from '../../../../src/runtime/services/file-state-store.ts';
import { createLogger } from '../../../../src/runtime/services/pino-logger.ts';
import { PromMetrics } from '../../../../src/runtime/services/prom-metrics.ts';
import { SecretRedactor } from '../../../../src/runtime/services/secret-redactor.ts';
import { systemClock } from '../../../../src/runtime/services/system-clock.ts';
import { deadLetterSinkPlugin, type DeadLetterLine } from '../../../../src/stages/dead-letter/dead-letter-sink.plugin.ts';

export interface StageHarness {
  readonly dir: string;
  readonly limiter: InFlightLimiter;
  readonly logLines: string[];
  /** The metrics the stages report into (read with metrics.registry.metrics()). */
  readonly metrics: PromMetrics;
  /** Creates the stage the way the runtime does: validated config, resolved services. */
  create(plugin: StagePlugin<'stage'>, config: unknown, instanceName?: string): Promise<StageInstance>;
  record(key: string, pixels: DecodedPixels | undefined): StreamRecord;
  /** A source that waits for room under the in-flight bound before each record, like a real one. */
  boundedSource(count: number, make: (i: number) => StreamRecord): Observable<StreamRecord>;
  deadLetters(): Promise<DeadLetterLine[]>;
  close(): Promise<void>;
}

export async function stageHarness(maxInFlight = 1024): Promise<StageHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'temi-embed-stage-'));
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('info', new SecretRedactor(), logStream);
  const metrics = new PromMetrics();
  const limiter = new InFlightLimiter(maxInFlight);
  const records = new DefaultRecordFactory(limiter, systemClock);
  const deadLetterSink = deadLetterSinkPlugin.create({
    config: { path: 'dead-letters.jsonl', includeBytes: false, maxBytes: 0 },
    deps: { state: new FileStateStore(dir) },
    instanceName: 'dead-letter',
  }) as SinkInstance;
  await deadLetterSink.start?.();
  const deadLetters = new DeadLetterRouter(deadLetterSink, systemClock, logger, metrics);
  const pipeline: PipelineInfo = { name: 'embed-test', baseDir: dir, shutdown: new AbortController().signal, stopping: new AbortController().signal, stateful: false };
  // The runtime's container: the services above bound, any other made by its ref's default factory.
  const container = new ServiceContainer();
  container.bind(services.logger, logger);
  container.bind(services.metrics, metrics);
  container.bind(services.deadLetters, deadLetters);
  container.bind(services.pipeline, pipeline);
  container.bind(services.flow, limiter);
  container.bind(services.records, records);
  container.bind(services.clock, systemClock);

  return {
    dir,
    limiter,
    logLines,
    metrics,
    async create(plugin, config, instanceName = plugin.name) {
      const { value, issues } = plugin.configSchema.validate(config);
      if (issues.length) throw new Error(`invalid test config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
      const deps = await container.resolveDeps(plugin.deps, plugin.name, instanceName);
      return (await plugin.create({ config: value, deps: deps as never, instanceName })) as StageInstance;
    },
    record(key, pixels) {
      return records.create({ key, payload: pixels ? { pixels } : {}, origin: { source: 'test' } });
    },
    boundedSource(count, make) {
      return new Observable<StreamRecord>((subscriber) => {
        let stopped = false;
        void (async () => {
          for (let i = 0; i < count && !stopped; i++) {
            await limiter.whenReady();
            subscriber.next(make(i));
          }
          subscriber.complete();
        })();
        return () => {
          stopped = true;
        };
      });
    },
    async deadLetters() {
      let text = '';
      try {
        text = await readFile(path.join(dir, 'dead-letters.jsonl'), 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as DeadLetterLine);
    },
    async close() {
      await deadLetterSink.stop?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

