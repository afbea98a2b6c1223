import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
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

  it('keeps bulky typed arrays out of snapshot.json (regression: a 1,797-image run left a 183 MB snapshot.json) and gives them back intact', async () => {
    const store = new FileStateStore(await tempDir());
    const snapshots = new PipelineSnapshots(store, recordingLogger([]));
    const weights = Float32Array.from({ length: 200_000 }, (_, i) => Math.sin(i));
    const counts = Int32Array.from({ length: 20_000 }, (_, i) => i % 10);
    let restored: { weights: Float32Array; counts: Int32Array; small: Float32Array; steps: number } | undefined;
    const member = {
      name: 'trainer',
      instance: { snapshot: () => ({ weights, counts, small: new Float32Array([1, 2, 3]), steps: 7 }), restore: (s: unknown) => void (restored = s as typeof restored) },
    };
    await snapshots.save([member]);
    expect((await stat(store.path('snapshot.json'))).size).toBeLessThan(4096);
    expect(await snapshots.restore([member])).toBe(true);
    expect(restored!.weights).toBeInstanceOf(Float32Array);
    expect(Buffer.from(restored!.weights.buffer).equals(Buffer.from(weights.buffer))).toBe(true);
    expect(restored!.counts).toEqual(counts);
    expect(restored!.small).toEqual(new Float32Array([1, 2, 3]));
    expect(restored!.steps).toBe(7);

    // Unchanged arrays are not written again; the previous save's blobs stay while it is kept.
    await snapshots.save([member]);
    expect(snapshots.lastSave!.blobBytesWritten).toBe(0);
    expect(snapshots.lastSave!.blobBytesReused).toBe(weights.byteLength + counts.byteLength);
    weights[0] = 42;
    await snapshots.save([member]);
    expect(snapshots.lastSave!.blobBytesWritten).toBe(weights.byteLength);
    expect(await readdir(store.path('blobs'))).toHaveLength(3);
    weights[0] = 43;
    await snapshots.save([member]);
    // The oldest weights are referenced by neither kept snapshot any more.
    expect(await readdir(store.path('blobs'))).toHaveLength(3);
  });

  it('falls back to the previous snapshot when a blob of the newest is corrupt', async () => {
    const store = new FileStateStore(await tempDir());
    const lines: string[] = [];
    const snapshots = new PipelineSnapshots(store, recordingLogger(lines));
    let values = new Float32Array(4096).fill(1);
    let restored: Float32Array | undefined;
    const member = { name: 'm', instance: { snapshot: () => ({ values }), restore: (s: unknown) => void (restored = (s as { values: Float32Array }).values) } };
    await snapshots.save([member]);
    values = new Float32Array(4096).fill(2);
    await snapshots.save([member]);
    const newest = JSON.parse(await readFile(store.path('snapshot.json'), 'utf8')).instances.m.values.$blob.file as string;
    const bytes = await readFile(store.path(newest));
    bytes[100] ^= 0xff;
    await writeFile(store.path(newest), bytes);
    expect(await snapshots.restore([member])).toBe(true);
    expect(restored![0]).toBe(1);
    expect(lines.some((l) => l.startsWith('snapshot blob missing or corrupt, trying the previous one'))).toBe(true);
  });

  it('restores a format-1 snapshot (everything inline) written before blobs', async () => {
    const store = new FileStateStore(await tempDir());
    const instances = { m: { weights: 'AACAPwAAAEA=', steps: 3 } };
    const { createHash } = await import('node:crypto');
    await store.writeJson('snapshot.json', { format: 1, savedAt: '2026-12-01T00:00:00.000Z', checksum: createHash('sha256').update(JSON.stringify(instances)).digest('hex'), instances });
    let restored: unknown;
    expect(await new PipelineSnapshots(store, recordingLogger([])).restore([{ name: 'm', instance: { restore: (s: unknown) => void (restored = s) } }])).toBe(true);
    expect(restored).toEqual(instances.m);
  });

  it('skips a periodic tick while a save is still running instead of starting a second one (regression: saves piled up)', async () => {
    const store = new FileStateStore(await tempDir());
    const lines: string[] = [];
    const snapshots = new PipelineSnapshots(store, recordingLogger(lines));
    let release!: () => void;
    let running = 0;
    let most = 0;
    const member = {
      name: 'slow',
      instance: {
        snapshot: async () => {
          most = Math.max(most, ++running);
          await new Promise<void>((r) => (release = r));
          running--;
          return { ok: true };
        },
      },
    };
    const first = snapshots.tick([member]);
    await new Promise((r) => setTimeout(r, 10));
    await snapshots.tick([member]);
    await snapshots.tick([member]);
    expect(snapshots.skippedCount).toBe(2);
    expect(lines.filter((l) => l.startsWith('periodic snapshot skipped')).length).toBe(2);
    release();
    await first;
    expect(most).toBe(1);
    // Once it is done, the next tick saves again.
    const next = snapshots.tick([member]);
    await new Promise((r) => setTimeout(r, 10));
    release();
    await next;
    expect(snapshots.skippedCount).toBe(2);
  });
});
