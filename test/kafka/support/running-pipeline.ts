/** Runs a pipeline in this process until the test says stop; an endless source needs that. */
import type { StagePlugin } from '../../../src/runtime/contracts/plugin.ts';
import { PipelineRun, type RunSummary } from '../../../src/runtime/pipeline-run.ts';
import { resolveForTest, TextSink } from '../../support/pipeline-harness.ts';

export interface RunningPipeline {
  readonly run: PipelineRun;
  readonly logs: TextSink;
  /** Graceful stop (as on SIGTERM); resolves with the summary once drained and stopped. */
  stop(): Promise<RunSummary>;
  /** Settles when the run ends by itself (a failure). */
  readonly finished: Promise<RunSummary>;
}

export async function startPipeline(spec: Record<string, unknown>, dir: string, extraPlugins: StagePlugin[] = []): Promise<RunningPipeline> {
  const logs = new TextSink();
  const run = new PipelineRun(await resolveForTest(spec, dir, extraPlugins), { logStream: logs, progressStream: logs });
  const finished = run.execute();
  finished.catch(() => undefined);
  return {
    run,
    logs,
    finished,
    async stop() {
      await run.stop();
      return finished;
    },
  };
}
