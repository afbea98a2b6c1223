import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamRecord } from '../../../src/runtime/contracts/record.ts';
import { InFlightLimiter } from '../../../src/runtime/flow/in-flight-limiter.ts';
import { DefaultRecordFactory } from '../../../src/runtime/records/record-factory.ts';
import { DeadLetterRouter } from '../../../src/runtime/services/dead-letter-router.ts';
import { FileStateStore } from '../../../src/runtime/services/file-state-store.ts';
import { createLogger } from '../../../src/runtime/services/pino-logger.ts';
import { PromMetrics } from '../../../src/runtime/services/prom-metrics.ts';
import { SecretRedactor } from '../../../src/runtime/services/secret-redactor.ts';
import { systemClock } from '../../../src/runtime/services/system-clock.ts';
import { deadLetterSinkPlugin } from '../../../src/stages/dead-letter/dead-letter-sink.plugin.ts';
import { CloseSignal, emitPlan } from '../../../src/stages/files/emit-plan.ts';
import { planFolder } from '../../../src/stages/files/folder-plan.ts';
import { writeFileIn } from '../image-fixtures.ts';
import { readJsonl, tempDir } from '../stage-pipeline.ts';

/** The runtime pieces a source talks to, real ones, with dead letters going to dir/dead.jsonl. */
async function runtimeFor(dir: string, maxInFlight: number) {
  const limiter = new InFlightLimiter(maxInFlight);
  const sink = await deadLetterSinkPlugin.create({ config: { path: 'dead.jsonl', includeBytes: false, maxBytes: 0 }, deps: { state: new FileStateStore(dir) }, instanceName: 'dead-letter' });
  await sink.start?.();
  const logger = createLogger('silent', new SecretRedactor());
  return { limiter, records: new DefaultRecordFactory(limiter, systemClock), deadLetters: new DeadLetterRouter(sink, systemClock, logger, new PromMetrics()), sink };
}

async function folderOf(count: number): Promise<string> {
  const dir = await tempDir('emit-plan-');
  for (let i = 0; i < count; i++) await writeFileIn(join(dir, 'in', `${String(i).padStart(2, '0')}.png`), `bytes of ${i}`);
  return dir;
}

/** Gives a (wrongly) unblocked source the chance to emit more, before asserting that it did not. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

let subscription: Subscription | undefined;
afterEach(() => subscription?.unsubscribe());

describe('files source emission', () => {
  it('never has more records in flight than the bound, and resumes as records are acknowledged', async () => {
    const dir = await folderOf(10);
    const { limiter, records, deadLetters } = await runtimeFor(dir, 4);
    const plan = await planFolder({ folder: join(dir, 'in'), extensions: ['.png'], recursive: true, labelsFrom: 'none', offset: 0, readAhead: 3, source: 'files' });
    const seen: StreamRecord[] = [];
    let completed = false;
    subscription = emitPlan(plan, { flow: limiter, records, deadLetters, stage: 'files', closing: new CloseSignal() }).subscribe({
      next: (r) => seen.push(r),
      complete: () => (completed = true),
    });
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    await settle();
    expect(seen).toHaveLength(4);
    expect(limiter.inFlight).toBe(4);

    seen[0].ack.ack();
    await vi.waitFor(() => expect(seen).toHaveLength(5));
    await settle();
    // Paused at the bound, the source waits until in-flight falls to 3/4 of it, then refills.
    expect(seen).toHaveLength(5);
    expect(limiter.inFlight).toBe(4);

    while (!completed) {
      for (const r of seen) r.ack.ack();
      await settle();
    }
    expect(seen.map((r) => r.key)).toEqual(Array.from({ length: 10 }, (_, i) => `${String(i).padStart(2, '0')}.png`));
  });

  it('completes promptly when closed while waiting for room, emitting nothing more', async () => {
    const dir = await folderOf(10);
    const { limiter, records, deadLetters } = await runtimeFor(dir, 3);
    const plan = await planFolder({ folder: join(dir, 'in'), extensions: ['.png'], recursive: true, labelsFrom: 'none', offset: 0, readAhead: 8, source: 'files' });
    const closing = new CloseSignal();
    const seen: StreamRecord[] = [];
    const done = new Promise<void>((resolve) => {
      subscription = emitPlan(plan, { flow: limiter, records, deadLetters, stage: 'files', closing }).subscribe({ next: (r) => seen.push(r), complete: resolve });
    });
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    await settle();
    expect(seen).toHaveLength(3);
    closing.close();
    await done;
    for (const r of seen) r.ack.ack();
    await settle();
    expect(seen).toHaveLength(3);
    expect(limiter.inFlight).toBe(0);
  });

  it('dead-letters a file that became unreadable after listing, naming it, and goes on', async () => {
    const dir = await folderOf(3);
    const { limiter, records, deadLetters, sink } = await runtimeFor(dir, 100);
    const plan = await planFolder({ folder: join(dir, 'in'), extensions: ['.png'], recursive: true, labelsFrom: 'none', offset: 0, readAhead: 1, source: 'files' });
    await rm(join(dir, 'in', '01.png'));
    const seen: StreamRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      subscription = emitPlan(plan, { flow: limiter, records, deadLetters, stage: 'files', closing: new CloseSignal() }).subscribe({ next: (r) => seen.push(r), complete: resolve, error: reject });
    });
    await sink.stop?.();
    expect(seen.map((r) => [r.key, Buffer.from(r.payload.bytes!).toString()])).toEqual([
      ['00.png', 'bytes of 0'],
      ['02.png', 'bytes of 2'],
    ]);
    const letters = await readJsonl(join(dir, 'dead.jsonl'));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ key: '01.png', stage: 'files', code: 'TS_ERR_FILES_UNREADABLE', reason: `${join(dir, 'in', '01.png')}: cannot read the file (ENOENT)` });
    expect(letters[0].origin).toEqual({ source: 'files', file: join(dir, 'in', '01.png'), position: 1 });
  });
});
