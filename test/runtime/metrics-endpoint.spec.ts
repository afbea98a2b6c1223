import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineRun } from '../../src/runtime/pipeline-run.ts';
import { TextSink, resolveForTest, tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

describe('metrics endpoint', () => {
  it('serves Prometheus metrics while the pipeline runs: per-stage counts, latency, in-flight, process', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 2000);
    const plugins = [(await import('../../examples/plugins/byte-size-guard.ts')).default];
    const pipeline = await resolveForTest(
      {
        name: 'metered',
        source: { use: 'replay', with: { path: 'in.jsonl', ratePerSecond: 500 } },
        stages: [{ use: 'byte-size-guard', id: 'guard', with: { minBytes: 10 } }],
        sink: { use: 'jsonl', with: { path: 'out.jsonl' } },
        metrics: { port: 0 },
        runtime: { progress: 'off', logLevel: 'warn' },
      },
      dir,
      plugins as never,
    );
    const run = new PipelineRun(pipeline, { logStream: new TextSink() });
    const done = run.execute();
    while (run.metricsEndpointPort === undefined) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1500));
    const text = await (await fetch(`http://127.0.0.1:${run.metricsEndpointPort}/metrics`)).text();
    await run.stop();
    const summary = await done;
    expect(text).toMatch(/temi_stage_records_in_total\{stage="guard"\} \d+/);
    expect(text).toMatch(/temi_records_dead_lettered_total\{stage="guard",code="EXAMPLE_ERR_BYTE_SIZE"\} 10/);
    expect(text).toContain('temi_record_latency_seconds_bucket');
    expect(text).toContain('temi_in_flight_records');
    expect(text).toContain('temi_process_resident_memory_bytes');
    expect(summary.stopped).toBe(true);
  });
});
