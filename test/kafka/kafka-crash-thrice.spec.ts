/**
 * Crash consistency of a stateful pipeline: the index (and trainer, assign) keep state in
 * snapshots, so input offsets are committed only after the snapshot covering them is durable.
 * The process is killed with SIGKILL at three random moments and restarted each time; in the end
 * every input id is labelled AND present in the restored index: nothing was lost from the state.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { VectorIndex } from '../../src/vector-index/vector-index.ts';
import { recordIdOf } from '../../src/runtime/records/record-id.ts';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, hasAll, kafkaPipeline, keysOf, pngMessages, produce, quietKafka, readUntil, unique, startPipelineProcess } from './support/kafka-test-kit.ts';

const brokers = inject('kafkaBrokers');
const startCli = (pipelineFile: string) => startPipelineProcess(pipelineFile, brokers);

describe('stateful kafka pipeline killed with SIGKILL three times', () => {
  it('labels every id and keeps every id in the restored index', async () => {
    const kafka = quietKafka(brokers);
    const t = { input: unique('thrice-in'), labels: unique('thrice-labels'), deadLetters: unique('thrice-dlq'), groupId: unique('thrice-group') };
    await createTopics(kafka, [t.input, t.labels, t.deadLetters], 2);
    const dir = await tempDir('kafka-thrice-');
    const base = kafkaPipeline({ brokers: '${env:KAFKA_BROKERS}', ...t, stateDir: dir, maxInFlight: 64 }) as { stages: unknown[] };
    const spec = {
      ...base,
      stages: [
        ...base.stages,
        { use: 'index', with: { capacity: 10_000 } },
        // Drift and the round choice at their defaults: on these random images every record "fits
        // no cluster", so drift brings a round (and its choice) forward after each 200, and the
        // final graceful stop lands in one; the choice runs off the pipeline's thread and a stop
        // aborts it, so the stop ends in time and the state stays consistent.
        { use: 'train', with: { trainer: 'kmeans', clusters: 10, firstRoundAt: 200, everyRecords: 300, epochs: 1, k: 5 } },
        { use: 'assign' },
      ],
    };
    const pipelineFile = join(dir, 'pipeline.json');
    await writeFile(pipelineFile, JSON.stringify(spec, null, 2));

    const total = 1200;
    const messages = await pngMessages('thrice-', total);
    await produce(kafka, t.input, messages, 2);

    // Three kills, each after a random number of further labels (seeded by the topic name).
    let seed = [...t.input].reduce((a, c) => a + c.charCodeAt(0), 0);
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let labelled = 0;
    for (let kill = 0; kill < 3; kill++) {
      const target = Math.min(total - 1, labelled + 100 + Math.floor(random() * 250));
      const run = startCli(pipelineFile);
      await readUntil(kafka, t.labels, (m) => keysOf(m).size >= target, 120_000);
      // A random moment after the threshold, inside a snapshot interval (1 s) or across one.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)));
      run.child.kill('SIGKILL');
      expect((await run.exited).signal).toBe('SIGKILL');
      labelled = keysOf(await readUntil(kafka, t.labels, (m) => m.length > 0)).size;
    }

    const last = startCli(pipelineFile);
    const labels = await readUntil(kafka, t.labels, hasAll(messages.map((m) => m.key)), 180_000);
    last.child.kill('SIGTERM');
    expect((await last.exited).code, last.err()).toBe(0);
    expect(keysOf(labels).size).toBe(total);

    const index = await VectorIndex.open(join(dir, 'state', 'index'));
    try {
      const missing = messages.filter((m) => !index.has(recordIdOf(m.key)));
      expect(missing.map((m) => m.key)).toEqual([]);
    } finally {
      await index.close();
    }
  });
});
