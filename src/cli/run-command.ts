import { parseArgs } from 'node:util';
import { createRegistryWithBuiltins } from '../plugins/builtin-plugins.ts';
import { isTemiError, reasonOf } from '../runtime/errors.ts';
import { formatIssueList } from '../runtime/pipeline/format-issue.ts';
import { resolvePipelineFile } from '../plugins/resolve-pipeline.ts';
import { PipelineRun } from '../runtime/pipeline-run.ts';
import { EXIT, println, type CliIO } from './io.ts';

export const runHelp = `Usage: temi-stream run <pipeline.json>

Runs a pipeline until its source ends (files, replay) or until SIGINT/SIGTERM. The first signal
stops the source, drains in-flight records, flushes sinks, snapshots state and exits 0; a
second signal exits at once (130).

Exit codes: 0 finished or stopped cleanly, 1 runtime failure, 2 invalid pipeline.`;

export async function runCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || positionals.length !== 1) {
    println(values.help ? io.stdout : io.stderr, runHelp);
    return values.help ? EXIT.ok : EXIT.invalid;
  }
  const file = positionals[0];
  let run: PipelineRun;
  try {
    const result = await resolvePipelineFile(file, createRegistryWithBuiltins(), io.env);
    if (!result.ok) {
      for (const line of formatIssueList(result.issues)) println(io.stderr, `${file}: ${line}`);
      return EXIT.invalid;
    }
    run = new PipelineRun(result.pipeline, { logStream: io.stderr, progressStream: io.stderr });
  } catch (error) {
    println(io.stderr, isTemiError(error) ? error.message : `failed to load ${file}: ${reasonOf(error)}`);
    return isTemiError(error) && error.code.startsWith('TS_ERR_PIPELINE') ? EXIT.invalid : EXIT.failure;
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      println(io.stderr, `${signal} again: exiting without draining`);
      process.exit(130);
    }
    println(io.stderr, `${signal}: stopping gracefully (send it again to force exit)`);
    void run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A run waiting only on promises (a hung downstream, an idle stream) has no active handle, and
  // Node would exit 13 on the unsettled await; the run itself must decide when the process ends.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    const summary = await run.execute();
    println(io.stderr, `done: ${summary.records} records in, ${summary.written} written, ${summary.deadLettered} dead-lettered in ${summary.seconds.toFixed(1)} s${summary.revised ? `, ${summary.revised} revised labels written` : ''}${summary.stopped ? ' (stopped by signal)' : ''}`);
    return EXIT.ok;
  } catch (error) {
    println(io.stderr, run.pipeline.redactor.redact(`pipeline failed: ${isTemiError(error) ? error.message : reasonOf(error)}`));
    return EXIT.failure;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
