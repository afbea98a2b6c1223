import { join } from 'node:path';
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { definePlugin, s, services } from '../../src/runtime/contracts/index.ts';
import { ProgressReporter } from '../../src/runtime/progress/progress-reporter.ts';
import { TextSink, runForTest, tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

describe('the progress line', () => {
  it('shows stage entries in the order they registered, a status only once set, then what the sink wrote', () => {
    const out = new TextSink();
    const progress = new ProgressReporter('lines', out);
    const ingested = progress.counter('ingested');
    const indexed = progress.counter('indexed');
    const train = progress.status('train');
    const labelled = progress.counter('labelled');
    progress.start(10_000);
    ingested.add(4096);
    indexed.add(4000);
    labelled.add(3000);
    progress.add(3000);
    expect(progress.line()).toMatch(/^ingested 4096 {2}indexed 4000 {2}labelled 3000 {2}written 3000\/10000 \(30\.0%\)/);

    train.set('round 2 step 140/300');
    progress.add(500, 120);
    expect(progress.line()).toMatch(/^ingested 4096 {2}indexed 4000 {2}train: round 2 step 140\/300 {2}labelled 3000 {2}written 3500\/10000 \(35\.0%\) {2}revised 120 /);
    train.set(undefined);
    expect(progress.line()).not.toContain('train:');
    progress.finish();
    expect(out.text).toMatch(/^progress: ingested 4096 .* elapsed \d+s\n$/);
  });

  it('registering a name twice reports into one entry', () => {
    const progress = new ProgressReporter('off');
    progress.counter('indexed').add(2);
    progress.counter('indexed').add(3);
    expect(progress.line()).toMatch(/^indexed 5 {2}written 0/);
  });

  it('a plugin reports into it through the progress service, after what the source let in', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 20);
    const counting = definePlugin({
      name: 'count-even',
      kind: 'stage',
      description: 'counts records with an even key',
      configSchema: s.object({}),
      deps: { progress: services.progress },
      create({ deps }) {
        const even = deps.progress.counter('even');
        return { operator: map((r) => (Number(r.key.slice(4)) % 2 === 0 ? (even.add(), r) : r)) };
      },
    });
    const { logs: text } = await runForTest(
      { name: 'p', source: { use: 'replay', with: { path: 'in.jsonl' } }, stages: [{ use: 'count-even' }], sink: { use: 'jsonl', with: { path: 'out.jsonl' } }, runtime: { progress: 'lines' } },
      dir,
      [counting],
    );
    expect(text).toMatch(/progress: ingested 20 {2}even 10 {2}written 20 {2}/);
  });
});
