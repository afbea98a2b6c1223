/**
 * At-least-once across a crash: the pipeline runs as its own process (the CLI) while images keep
 * arriving, is killed with SIGKILL mid-stream (records in flight, offsets partly committed), and a
 * restarted process resumes from the group's committed offsets: every input id ends up labelled.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { tempDir } from '../support/pipeline-harness.ts';
import { createTopics, groupLag, hasAll, kafkaPipeline, keysOf, pngMessages, produce, quietKafka, readUntil, unique, startPipelineProcess } from './support/kafka-test-kit.ts';

const brokers = inject('kafkaBrokers');
const startCli = (pipelineFile: string) => startPipelineProcess(pipelineFile, brokers);

describe('kafka pipeline process killed with SIGKILL mid-stream', () => {
  it('labels every input id after a restart', async () => {
    const kafka = quietKafka(brokers);
    const t = { input: unique('crash-in'), labels: unique('crash-labels'), deadLetters: unique('crash-dlq'), groupId: unique('crash-group') };
    await createTopics(kafka, [t.input, t.labels, t.deadLetters], 2);
    const dir = await tempDir('kafka-crash-');
    const spec = kafkaPipeline({ brokers: '${env:KAFKA_BROKERS}', ...t, stateDir: dir, maxInFlight: 64 });
    const pipelineFile = join(dir, 'pipeline.json');
    await writeFile(pipelineFile, JSON.stringify(spec, null, 2));

    // Images keep arriving in small bursts for the whole test, so the kill lands mid-stream.
    const total = 900;
    const messages = await pngMessages('crash-', total);
    let produced = 0;
    const producing = (async () => {
      while (produced < total) {
        await produce(kafka, t.input, messages.slice(produced, produced + 30), 2);
        produced += 30;
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    const first = startCli(pipelineFile);
    await readUntil(kafka, t.labels, (m) => keysOf(m).size >= 150);
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const labelledBeforeRestart = keysOf(await readUntil(kafka, t.labels, (m) => m.length > 0)).size;

    const second = startCli(pipelineFile);
    await producing;
    const labels = await readUntil(kafka, t.labels, hasAll(messages.map((m) => m.key)), 120_000);
    second.child.kill('SIGTERM');
    const ended = await second.exited;

    expect(ended.code, second.err()).toBe(0);
    expect(labelledBeforeRestart).toBeLessThan(total);
    expect(keysOf(labels).size).toBe(total);
    // Committed offsets, not a re-read of the whole topic, are where the second process started.
    expect(labels.length).toBeLessThan(2 * total);
    expect(await groupLag(kafka, t.groupId, t.input)).toBe(0);
  });
});
