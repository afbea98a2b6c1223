import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../contracts/services.ts';
import { FileStateStore } from '../services/file-state-store.ts';
import { PipelineSnapshots } from './pipeline-snapshots.ts';
import { tempDir } from '../../../test/support/pipeline-harness.ts';

function recordingLogger(lines: string[]): Logger {
  const log = (m: string, f?: LogFields) => lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe('PipelineSnapshots', () => {
  it('restores the previous snapshot, with a clear log line, when the newest is corrupt or torn', async () => {
    const store = new FileStateStore(await tempDir());
    const lines: string[] = [];
    const snapshots = new PipelineSnapshots(store, recordingLogger(lines));
    let state = 1;
    const member = { name: 'counter', instance: { snapshot: () => ({ state }), restore: (s: unknown) => void (restored = s) } };
    let restored: unknown;
    await snapshots.save([member]);
    state = 2;
    await snapshots.save([member]);

    // A bit flip in the newest file: the checksum no longer matches.
    const current = store.path('snapshot.json');
    await writeFile(current, (await readFile(current, 'utf8')).replace('"state":2', '"state":3'));
    expect(await snapshots.restore([member])).toBe(true);
    expect(restored).toEqual({ state: 1 });
    expect(lines.some((l) => l.startsWith('snapshot checksum mismatch, trying the previous one'))).toBe(true);

    // A torn write (half a file): not JSON at all.
    await writeFile(current, '{"format":1,"savedAt":"2026');
    lines.length = 0;
    restored = undefined;
    expect(await snapshots.restore([member])).toBe(true);
    expect(restored).toEqual({ state: 1 });
    expect(lines.some((l) => l.startsWith('snapshot unreadable, trying the previous one'))).toBe(true);
  });

  it('reports nothing to restore on a fresh state directory', async () => {
    const snapshots = new PipelineSnapshots(new FileStateStore(await tempDir()), recordingLogger([]));
    expect(await snapshots.restore([{ name: 'x', instance: { restore: () => {} } }])).toBe(false);
  });
});
