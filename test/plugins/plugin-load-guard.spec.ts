import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPluginModule } from '../../src/plugins/load-plugin-module.ts';
import { tempDir } from '../support/pipeline-harness.ts';

const fixtures = resolve('test/fixtures/plugins/hostile');
const bin = resolve('bin/temi-stream.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function pipelineUsing(plugin: string): Promise<string> {
  const dir = await tempDir('temi-plugin-guard-');
  const file = join(dir, 'pipeline.json');
  await writeFile(
    file,
    JSON.stringify({ name: 'guarded', plugins: [join(fixtures, plugin)], source: { use: 'replay', with: { path: 'in.jsonl' } }, sink: { use: 'jsonl', with: { path: 'out.jsonl' } } }),
  );
  return file;
}

describe('plugin modules that end or stall the process while loading', () => {
  it('a module calling process.exit(0) at import is a coded error naming the file, not a silent exit 0', async () => {
    const exitBefore = process.exit;
    await expect(loadPluginModule(join(fixtures, 'exits-at-import.ts'), fixtures, '$.plugins[0]')).rejects.toMatchObject({
      code: 'TS_ERR_PLUGIN_LOAD',
      where: '$.plugins[0]',
      message: expect.stringContaining('exits-at-import.ts'),
    });
    // The guard is lifted again afterwards.
    expect(process.exit).toBe(exitBefore);
  });

  it('a module that catches its own process.exit still fails to load', async () => {
    await expect(loadPluginModule(join(fixtures, 'exit-caught.ts'), fixtures, '$.plugins[0]')).rejects.toMatchObject({
      code: 'TS_ERR_PLUGIN_LOAD',
      message: expect.stringContaining('process.exit(3)'),
    });
  });

  it('a module whose top-level await never settles fails under the time limit, naming the file', async () => {
    await expect(loadPluginModule(join(fixtures, 'never-settles.ts'), fixtures, '$.plugins[1]', { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'TS_ERR_PLUGIN_LOAD_TIMEOUT',
      where: '$.plugins[1]',
      message: expect.stringContaining('never-settles.ts'),
    });
  });

  it('a module that throws a non-Error while loading is TS_ERR_PLUGIN_LOAD saying what it threw', async () => {
    await expect(loadPluginModule(join(fixtures, 'throws-a-number.ts'), fixtures, '$.plugins[0]')).rejects.toMatchObject({
      code: 'TS_ERR_PLUGIN_LOAD',
      message: expect.stringContaining('it threw 42'),
    });
  });

  it('validate exits 2 and names the plugin that called process.exit', async () => {
    const file = await pipelineUsing('exits-at-import.ts');
    const result = await runCli(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/TS_ERR_PLUGIN_LOAD at \$\.plugins\[0\]: .*exits-at-import\.ts.*process\.exit\(0\)/);
  }, 60_000);
});
