import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createRegistryWithBuiltins } from '../../src/plugins/builtin-plugins.ts';
import type { StagePlugin } from '../../src/runtime/contracts/plugin.ts';
import { resolvePipeline, type ResolvedPipeline } from '../../src/plugins/resolve-pipeline.ts';
import { PipelineRun, type RunSummary } from '../../src/runtime/pipeline-run.ts';
import { formatIssue } from '../../src/runtime/pipeline/format-issue.ts';

/** A temp folder for one test's pipeline file, inputs, outputs and state. */
export async function tempDir(prefix = 'temi-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Collects what a stream receives (logs, progress) so tests can assert on it. */
export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * Resolves a pipeline object as if it were `<dir>/pipeline.json`, with the built-ins plus any
 * extra plugins a test defines against the public contract, and fails loudly on invalid specs.
 */
export async function resolveForTest(spec: Record<string, unknown>, dir: string, extraPlugins: StagePlugin[] = []): Promise<ResolvedPipeline> {
  const registry = createRegistryWithBuiltins();
  for (const p of extraPlugins) registry.register(p, 'test');
  const file = join(dir, 'pipeline.json');
  await writeFile(file, JSON.stringify(spec, null, 2));
  const result = await resolvePipeline(spec, { file, registry });
  if (!result.ok) throw new Error(`invalid test pipeline:\n${result.issues.map(formatIssue).join('\n')}`);
  return result.pipeline;
}

/** A pipeline started by startForTest. */
export interface StartedForTest {
  logs: TextSink;
  dir: string;
  /** Asks the run to stop and waits for its end: the summary, and the seconds from the request to the end. */
  stop(): Promise<{ summary: RunSummary; seconds: number }>;
}

/**
 * Starts a pipeline (resolved as by resolveForTest, in a fresh temp folder) with its log lines
 * collected, for a test that acts while it runs (watches its output, stops it).
 */
export async function startForTest(spec: Record<string, unknown>, extraPlugins: StagePlugin[] = []): Promise<StartedForTest> {
  const dir = await tempDir();
  const logs = new TextSink();
  const run = new PipelineRun(await resolveForTest(spec, dir, extraPlugins), { logStream: logs });
  const done = run.execute();
  const stop = async () => {
    const stopAt = Date.now();
    await run.stop();
    const summary = await done;
    return { summary, seconds: (Date.now() - stopAt) / 1000 };
  };
  return { logs, dir, stop };
}

export async function runForTest(spec: Record<string, unknown>, dir: string, extraPlugins: StagePlugin[] = []): Promise<{ summary: RunSummary; logs: string; run: PipelineRun }> {
  const logs = new TextSink();
  const withQuietRuntime = { ...spec, runtime: { logLevel: 'warn', progress: 'off', ...(spec.runtime as object | undefined) } };
  const run = new PipelineRun(await resolveForTest(withQuietRuntime, dir, extraPlugins), { logStream: logs, progressStream: logs });
  const summary = await run.execute();
  return { summary, logs: logs.text, run };
}

/** Writes a replay file of `count` envelopes whose ids are `<prefix><i>` and bytes a few bytes long. */
export async function writeEnvelopes(file: string, count: number, options: { prefix?: string; label?: (i: number) => number } = {}): Promise<string[]> {
  const ids: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${options.prefix ?? 'rec-'}${i}`;
    ids.push(id);
    lines.push(JSON.stringify({ id, image: Buffer.from(`payload-${i}`).toString('base64'), label: options.label?.(i) ?? i % 10 }));
  }
  await writeFile(file, `${lines.join('\n')}\n`);
  return ids;
}
