import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeEnvelopes } from '../support/pipeline-harness.ts';

const bin = resolve('bin/temi-stream.js');

function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lineCount(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe('temi-stream run as a process', () => {
  it('SIGINT stops the source, drains and flushes what is in flight, and exits 0', async () => {
    const dir = await tempDir();
    const ids = await writeEnvelopes(join(dir, 'in.jsonl'), 20_000);
    const pipeline = { name: 'sig', source: { use: 'replay', with: { path: 'in.jsonl', ratePerSecond: 400 } }, sink: { use: 'jsonl', with: { path: 'out.jsonl', batchSize: 16 } }, runtime: { progress: 'off' } };
    await writeFile(join(dir, 'p.json'), JSON.stringify(pipeline));
    const cli = startCli(['run', join(dir, 'p.json')]);
    await until(async () => (await lineCount(join(dir, 'out.jsonl'))) >= 50, 'first records written');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    const written = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).key);
    expect(written.length).toBeLessThan(ids.length);
    // Everything the source emitted was written, in order, with no gap: the drain lost nothing.
    expect(written).toEqual(ids.slice(0, written.length));
    const done = /done: (\d+) records in, (\d+) written, 0 dead-lettered .*\(stopped by signal\)/.exec(cli.err());
    expect(done).not.toBeNull();
    expect(Number(done![1])).toBe(written.length);
    expect(Number(done![2])).toBe(written.length);
  });

  it('a second signal forces exit while a sink hangs', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 100);
    const pipeline = {
      name: 'stuck',
      plugins: [resolve('test/fixtures/plugins/stuck-sink.ts')],
      source: { use: 'replay', with: { path: 'in.jsonl' } },
      sink: { use: 'stuck-sink' },
      runtime: { progress: 'off' },
    };
    await writeFile(join(dir, 'p.json'), JSON.stringify(pipeline));
    const cli = startCli(['run', join(dir, 'p.json')]);
    // The premise: records are stuck in the sink. A stop before any reached it would drain at once.
    await until(() => cli.err().includes('stuck-sink: first write received'), 'a write stuck in the sink');
    cli.child.kill('SIGTERM');
    await until(() => cli.err().includes('stopping gracefully'), 'first signal acknowledged');
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(130);
    expect(cli.err()).toContain('SIGTERM again: exiting without draining');
  });

  it('exits 2 on an invalid pipeline and 1 on a runtime failure, naming the cause', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ name: 'x', source: { use: 'replay', with: { path: 'in.jsonl' } }, sink: { use: 'jsnl' } }));
    const invalid = startCli(['run', join(dir, 'bad.json')]);
    expect(await invalid.exited).toBe(2);
    expect(invalid.err()).toContain('TS_ERR_PIPELINE_UNKNOWN_PLUGIN at $.sink.use: no plugin named "jsnl" (did you mean "jsonl"?)');

    await writeFile(join(dir, 'missing-input.json'), JSON.stringify({ name: 'y', source: { use: 'replay', with: { path: 'nope.jsonl' } }, sink: { use: 'jsonl', with: { path: 'o.jsonl' } }, runtime: { progress: 'off' } }));
    const failing = startCli(['run', join(dir, 'missing-input.json')]);
    expect(await failing.exited).toBe(1);
    expect(failing.err()).toMatch(/pipeline failed: .*nope\.jsonl/);
  });

  it('never prints values substituted from ${env:...}', async () => {
    const dir = await tempDir();
    await writeEnvelopes(join(dir, 'in.jsonl'), 3);
    const secret = 'sk-live-9f8e7d6c5b4a';
    // The secret ends up in a path that does not exist, so it would appear in the failure message.
    await writeFile(join(dir, 'p.json'), JSON.stringify({ name: 'sec', source: { use: 'replay', with: { path: '${env:TEMI_TEST_SECRET}/in.jsonl' } }, sink: { use: 'jsonl', with: { path: 'o.jsonl' } }, runtime: { logLevel: 'debug', progress: 'off' } }));
    const cli = startCli(['run', join(dir, 'p.json')], { TEMI_TEST_SECRET: secret });
    expect(await cli.exited).toBe(1);
    expect(cli.err()).toContain('***');
    expect(cli.err() + cli.out()).not.toContain(secret);
  });
});
