import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/pipeline-harness.ts';

const run = promisify(execFile);
const startScript = resolve('scripts/kafka/start.sh');

/**
 * A stand-in for `java` on PATH: formatting succeeds, and "the broker" writes a line naming its
 * start, says it started, and waits to be killed. Enough to exercise start.sh's own logic
 * without a JVM start per case.
 */
const FAKE_JAVA = `#!/usr/bin/env bash
case "$*" in
  *StorageTool*) exit 0 ;;
esac
echo "fake broker run \${FAKE_RUN:-?}"
echo "Kafka Server started"
exec sleep 120
`;

async function gone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

describe('scripts/kafka/start.sh', () => {
  it('regression: a restart keeps the previous broker.log as broker.log.1 (a crashed broker\'s log is not overwritten)', async () => {
    const dir = await tempDir('kafka-start-log-');
    const bin = join(dir, 'bin');
    const libs = join(dir, 'libs');
    const data = join(dir, 'data');
    await mkdir(bin);
    await mkdir(libs);
    await writeFile(join(libs, 'kafka_2.13-0.0.0.jar'), '');
    await writeFile(join(bin, 'java'), FAKE_JAVA);
    await chmod(join(bin, 'java'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, KAFKA_LIBS_DIR: libs };
    const start = async (runNumber: number) => {
      await run('bash', [startScript, '--data-dir', data, '--port', '1', '--controller-port', '2'], { env: { ...env, FAKE_RUN: String(runNumber) } });
      // The broker "crashes": killed by its pid, with no stop.sh to tidy up.
      const pid = Number(await readFile(join(data, 'broker.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      await gone(pid);
    };

    await start(1);
    await start(2);

    expect(await readFile(join(data, 'broker.log'), 'utf8')).toContain('fake broker run 2');
    expect(await readFile(join(data, 'broker.log.1'), 'utf8')).toContain('fake broker run 1');
  }, 60_000);
});
