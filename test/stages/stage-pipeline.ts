/**
 * Runs a pipeline object end to end through the real runtime (resolvePipeline + PipelineRun) with
 * the files source, the decode stage, and the jsonl / dead-letter sinks registered, and reads back
 * what the sinks wrote.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { StagePlugin } from '../../src/runtime/contracts/plugin.ts';
import { PluginRegistry } from '../../src/plugins/plugin-registry.ts';
import { formatIssue } from '../../src/runtime/pipeline/format-issue.ts';
import { resolvePipeline, type ResolveResult } from '../../src/plugins/resolve-pipeline.ts';
import { PipelineRun, type RunSummary } from '../../src/runtime/pipeline-run.ts';
import { decodeStagePlugin } from '../../src/stages/decode/decode-stage.plugin.ts';
import { deadLetterSinkPlugin } from '../../src/stages/dead-letter/dead-letter-sink.plugin.ts';
import { filesSourcePlugin } from '../../src/stages/files/files-source.plugin.ts';
import { jsonlSinkPlugin } from '../../src/stages/jsonl/jsonl-sink.plugin.ts';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function stageRegistry(extra: StagePlugin[] = []): PluginRegistry {
  const registry = new PluginRegistry();
  for (const plugin of [filesSourcePlugin, decodeStagePlugin, jsonlSinkPlugin, deadLetterSinkPlugin, ...extra] as StagePlugin[]) registry.register(plugin, 'test');
  return registry;
}

/** Resolves `spec` as if it were `<dir>/pipeline.json`. */
export async function resolveInDir(spec: Record<string, unknown>, dir: string, plugins: StagePlugin[] = []): Promise<ResolveResult> {
  const file = join(dir, 'pipeline.json');
  await writeFile(file, JSON.stringify(spec, null, 2));
  return resolvePipeline(spec, { file, registry: stageRegistry(plugins) });
}

class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface StageRunResult {
  readonly summary: RunSummary;
  /** Parsed lines of `out.jsonl` in `dir`. */
  readonly lines: Array<Record<string, any>>;
  /** Parsed lines of `dead-letters.jsonl` in `dir`. */
  readonly deadLetters: Array<Record<string, any>>;
  readonly logs: string;
}

export interface StageRunOptions {
  /** Further plugins the pipeline may use (test stages written against the public contract). */
  readonly plugins?: StagePlugin[];
  /** Sees the run before it executes, e.g. to stop it from a stage. */
  readonly onRun?: (run: PipelineRun) => void;
}

/**
 * Runs `source -> stages -> jsonl(dir/out.jsonl)` with dead letters in dir/dead-letters.jsonl and
 * state in dir/state. Log level warn, no progress bar, unless `runtime` says otherwise.
 */
export async function runStages(
  dir: string,
  source: Record<string, unknown>,
  stages: Array<Record<string, unknown>>,
  runtime: Record<string, unknown> = {},
  options: StageRunOptions = {},
): Promise<StageRunResult> {
  const spec = {
    name: 'stage-test',
    source,
    stages,
    sink: { use: 'jsonl', with: { path: 'out.jsonl', fsync: false } },
    deadLetter: { use: 'dead-letter', with: { path: join(dir, 'dead-letters.jsonl') } },
    state: { dir: 'state' },
    runtime: { logLevel: 'warn', progress: 'off', ...runtime },
  };
  const resolved = await resolveInDir(spec, dir, options.plugins);
  if (!resolved.ok) throw new Error(`invalid test pipeline:\n${resolved.issues.map(formatIssue).join('\n')}`);
  const logs = new TextSink();
  const run = new PipelineRun(resolved.pipeline, { logStream: logs, progressStream: logs });
  options.onRun?.(run);
  const summary = await run.execute();
  return { summary, lines: await readJsonl(join(dir, 'out.jsonl')), deadLetters: await readJsonl(join(dir, 'dead-letters.jsonl')), logs: logs.text };
}

export async function readJsonl(file: string): Promise<Array<Record<string, any>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}
