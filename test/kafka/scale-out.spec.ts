/**
 * Scale-out on Kafka itself: two worker processes share the image topic's 4 partitions in one
 * consumer group (pipelines/worker.json), one trainer process (pipelines/trainer.json) consumes the
 * embeddings they publish, trains, and publishes model versions to a compacted topic the workers
 * follow. Every image gets a label, both workers do work, and once version 2 is out, images that
 * arrive afterwards are labelled by version 2 or newer (hot swap without a restart).
 *
 * The processes are the real CLI on the shipped pipeline files, with unique topic names, a fast
 * trainer (k-means, first round after 500 embeddings, then every 1,000) and state in a temp dir.
 * Images are Fashion-MNIST test rows published as PNGs by scripts/produce-images.ts.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, hasAll, keysOf, quietKafka, readUntil, unique, type KafkaClient } from './support/kafka-test-kit.ts';

const bin = resolve('bin/temi-stream.js');
const brokers = inject('kafkaBrokers');

interface Names {
  images: string;
  embeddings: string;
  models: string;
  labels: string;
  imageDeadLetters: string;
  embeddingDeadLetters: string;
  workers: string;
  trainer: string;
  modelKey: string;
}

/** A shipped pipeline file with this test's topics, groups and model key (and no fixed metrics port). */
async function shippedPipeline(file: string, names: Names, adjust: (spec: any) => void = () => {}): Promise<Record<string, unknown>> {
  const text = (await readFile(resolve('pipelines', file), 'utf8'))
    .replaceAll('"images"', JSON.stringify(names.images))
    .replaceAll('"embeddings"', JSON.stringify(names.embeddings))
    .replaceAll('"models"', JSON.stringify(names.models))
    .replaceAll('"image-labels"', JSON.stringify(names.labels))
    .replaceAll('"images-dead-letters"', JSON.stringify(names.imageDeadLetters))
    .replaceAll('"embeddings-dead-letters"', JSON.stringify(names.embeddingDeadLetters))
    .replaceAll('"temi-stream-workers"', JSON.stringify(names.workers))
    .replaceAll('"temi-stream-trainer"', JSON.stringify(names.trainer))
    .replaceAll('"fashion-mnist"', JSON.stringify(names.modelKey));
  const spec = JSON.parse(text);
  delete spec.$schema;
  delete spec.metrics;
  spec.runtime = { ...spec.runtime, progress: 'off', drainTimeoutMs: 20_000 };
  adjust(spec);
  return spec;
}

function startCli(pipelineFile: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, 'run', pipelineFile], { env: { ...process.env, KAFKA_BROKERS: brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, err: () => stderr };
}

type Cli = ReturnType<typeof startCli>;

/** Structured log lines of a process with this message. */
function logLines(cli: Cli, msg: string): Record<string, unknown>[] {
  return cli
    .err()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `done` every 200 ms; fails with `what` when `guardMs` passes first (a guard against hangs, not a timing assertion). */
async function until(what: string, done: () => boolean | Promise<boolean>, guardMs = 90_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function groupIsStableWith(kafka: KafkaClient, groupId: string, members: number): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.state === 'Stable' && groups[0].members.length === members;
  } finally {
    await admin.disconnect();
  }
}

/** Runs scripts/produce-images.ts as a user would and returns what it printed. */
async function produceImages(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/produce-images.ts', '--brokers', brokers, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  expect(code, out).toBe(0);
  return out;
}

describe('scale-out: two workers and a trainer on Kafka', () => {
  it('labels every image, shares the partitions, and hot-swaps to newer model versions', { timeout: 240_000 }, async () => {
    const kafka = quietKafka(brokers);
    const names: Names = {
      images: unique('so-images'),
      embeddings: unique('so-embeddings'),
      models: unique('so-models'),
      labels: unique('so-labels'),
      imageDeadLetters: unique('so-images-dlq'),
      embeddingDeadLetters: unique('so-embeddings-dlq'),
      workers: unique('so-workers'),
      trainer: unique('so-trainer'),
      modelKey: unique('so-model'),
    };
    // The trainer's source needs its topic to exist; the models topic is left to model-publish / model-follow to create compacted.
    await createTopics(kafka, [names.images, names.embeddings], 4);
    await createTopics(kafka, [names.labels, names.imageDeadLetters, names.embeddingDeadLetters], 1);

    const dir = await tempDir('scale-out-');
    const workerFile = join(dir, 'worker.json');
    const trainerFile = join(dir, 'trainer.json');
    await writeFile(workerFile, JSON.stringify(await shippedPipeline('worker.json', names), null, 2));
    await writeFile(
      trainerFile,
      JSON.stringify(
        await shippedPipeline('trainer.json', names, (spec) => {
          const train = spec.stages.find((s: { use: string }) => s.use === 'train');
          // Every round publishes (selectModel off): the label-free choice may rightly keep version 1
          // in service, and this spec is about workers hot-swapping to the versions that do come.
          train.with = { ...train.with, trainer: 'kmeans', firstRoundAt: 500, everyRecords: 1000, selectModel: false };
        }),
        null,
        2,
      ),
    );

    const trainer = startCli(trainerFile, { TEMI_STATE_DIR: join(dir, 'state-trainer') });
    const workers = [
      startCli(workerFile, { TEMI_STATE_DIR: join(dir, 'state-worker-a'), TEMI_CLIENT_ID: 'worker-a' }),
      startCli(workerFile, { TEMI_STATE_DIR: join(dir, 'state-worker-b'), TEMI_CLIENT_ID: 'worker-b' }),
    ];
    const all = [trainer, ...workers];
    try {
      // Both members hold partitions before images arrive, so the split is not decided by who started first.
      await until('both workers in the consumer group', () => groupIsStableWith(kafka, names.workers, 2));

      const prefix = `${unique('fm')}-`;
      const phase1 = await produceImages(['--topic', names.images, '--idx', 'fashion-mnist:test', '--limit', '2000', '--id-prefix', prefix]);
      expect(phase1).toContain('produced 2000 images');

      // Version 2 comes from the round after 1,500 embeddings; each worker reports adopting it.
      const adopted = (w: Cli) => logLines(w, 'model adopted').some((l) => (l.version as number) >= 2);
      await until('both workers to adopt model version 2', () => workers.every(adopted), 120_000);

      const phase2 = await produceImages(['--topic', names.images, '--idx', 'fashion-mnist:test', '--skip', '2000', '--limit', '1000', '--id-prefix', prefix, '--format', 'envelope']);
      expect(phase2).toContain('produced 1000 images');

      const ids = Array.from({ length: 3000 }, (_, i) => `${prefix}${i}`);
      const labels = await readUntil(kafka, names.labels, hasAll(ids), 120_000);

      for (const p of all) p.child.kill('SIGTERM');
      const codes = await Promise.all(all.map((p) => p.exited));
      codes.forEach((code, i) => expect(code, all[i].err().slice(-3000)).toBe(0));

      // Every image labelled (at least once: at-least-once delivery), by a model (workers wait for the first).
      expect(keysOf(labels).size).toBe(3000);
      const values = labels.map((m) => JSON.parse(m.value.toString()) as { id: string; cluster: number | null; modelVersion: number | null; label?: number });
      expect(values.every((v) => v.modelVersion !== null && v.cluster !== null)).toBe(true);
      expect(values.every((v) => v.label !== undefined)).toBe(true);

      // Images that arrived after both workers adopted version 2 are never labelled by version 1.
      const phase2Ids = new Set(ids.slice(2000));
      const phase2Versions = values.filter((v) => phase2Ids.has(v.id)).map((v) => v.modelVersion!);
      expect(phase2Versions.length).toBeGreaterThanOrEqual(1000);
      expect(Math.min(...phase2Versions)).toBeGreaterThanOrEqual(2);
      expect(Math.max(...values.map((v) => v.modelVersion!))).toBeGreaterThanOrEqual(2);

      // Both workers consumed part of the stream (each prints its own summary on exit).
      const consumed = workers.map((w) => logLines(w, 'pipeline finished')[0]?.records as number);
      expect(consumed.every((n) => n > 0)).toBe(true);
      expect(consumed[0] + consumed[1]).toBeGreaterThanOrEqual(3000);

      // The trainer saw every embedding, and the models topic keeps versions by compaction.
      const trained = logLines(trainer, 'pipeline finished')[0]?.records as number;
      expect(trained).toBeGreaterThanOrEqual(3000);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const described = await admin.describeConfigs({ resources: [{ type: 2, name: names.models, configNames: ['cleanup.policy'] }], includeSynonyms: false });
        expect(described.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact');
      } finally {
        await admin.disconnect();
      }
      console.log(`[scale-out] workers consumed ${consumed.join(' + ')} records, trainer ${trained} embeddings, ${labels.length} label messages for 3000 images, model versions up to ${Math.max(...values.map((v) => v.modelVersion!))}`);
    } finally {
      for (const p of all) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });
});
