import { createHash } from 'node:crypto';
import { rename, stat } from 'node:fs/promises';
import type { Lifecycle, SourceInstance } from '../contracts/plugin.ts';
import type { Logger, Metrics, StateStore } from '../contracts/services.ts';
import { reasonOf } from '../errors.ts';
import { packBlobs, referencedBlobs, removeUnreferencedBlobs, unpackBlobs } from './snapshot-blobs.ts';

/**
 * format 1: every instance's state inline (typed arrays as base64 strings or number arrays).
 * format 2: typed arrays as references to binary files in blobs/ (snapshot-blobs.ts).
 */
interface SnapshotFile {
  readonly format: 1 | 2;
  readonly savedAt: string;
  readonly checksum: string;
  readonly instances: Record<string, unknown>;
}

export interface SnapshotMember {
  readonly name: string;
  readonly instance: Lifecycle;
}

/** What the last save cost: for logs and benches. */
export interface SaveStats {
  readonly seconds: number;
  /** snapshot.json plus the blobs it refers to (the index keeps its own files). */
  readonly bytes: number;
  readonly blobBytesWritten: number;
  readonly blobBytesReused: number;
  /** The member whose snapshot() took longest, and how long (it may wait behind its own work, e.g. the index's worker). */
  readonly slowestMember: { readonly name: string; readonly seconds: number } | undefined;
}

const CURRENT = 'snapshot.json';
const PREVIOUS = 'snapshot.previous.json';

function checksumOf(instances: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(instances)).digest('hex');
}

/**
 * Saves every instance's snapshot together: snapshot.json (checksummed, atomic) and the binary
 * blobs it refers to, written and made durable before it. The previous snapshot.json is kept
 * (renamed, not rewritten) with its blobs; restore falls back to it when the newest is corrupt.
 * One save at a time: a periodic tick that finds one running is skipped, not queued.
 */
export class PipelineSnapshots {
  private saving: Promise<void> = Promise.resolve();
  /** Saves started and not yet settled. */
  private pending = 0;
  private skipped = 0;
  private stats: SaveStats | undefined;
  private saves = 0;
  private slowest = 0;
  private slowestSave: SaveStats | undefined;
  private readonly skippedTicks: ReturnType<Metrics['counter']> | undefined;

  constructor(private readonly store: StateStore, private readonly logger: Logger, metrics?: Metrics) {
    this.skippedTicks = metrics?.counter('temi_snapshot_ticks_skipped_total', 'Periodic snapshots skipped because the previous save was still running');
  }

  /** Periodic ticks skipped so far because a save was running. */
  get skippedCount(): number {
    return this.skipped;
  }

  get lastSave(): SaveStats | undefined {
    return this.stats;
  }

  /** Saves completed, and the slowest of them in seconds: for benches (bench:soak). */
  get history(): { readonly saves: number; readonly slowestSeconds: number; readonly slowestSave: SaveStats | undefined; readonly skippedTicks: number } {
    return { saves: this.saves, slowestSeconds: this.slowest, slowestSave: this.slowestSave, skippedTicks: this.skipped };
  }

  /** A periodic tick: saves unless a save is running, in which case the tick is skipped (counted, logged at debug). */
  tick(members: readonly SnapshotMember[], source?: SourceInstance): Promise<void> {
    if (this.pending > 0) {
      this.skipped++;
      this.skippedTicks?.inc();
      this.logger.debug('periodic snapshot skipped: the previous save is still running', { skipped: this.skipped });
      return Promise.resolve();
    }
    return this.save(members, source);
  }

  /**
   * Snapshots every member (after a running save, never beside it); with a source that
   * checkpoints, its positions are captured first and committed only after the snapshot is durable.
   */
  save(members: readonly SnapshotMember[], source?: SourceInstance, options: { final?: boolean } = {}): Promise<void> {
    this.pending++;
    const next = this.saving
      .then(async () => {
        const checkpoint = source?.checkpoint?.();
        await this.saveNow(members, options.final ?? false);
        if (checkpoint !== undefined) await source!.commitCheckpoint?.(checkpoint);
      })
      .finally(() => {
        this.pending--;
      });
    // The chain goes on after a failed save; the caller sees the failure.
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async saveNow(members: readonly SnapshotMember[], final: boolean): Promise<void> {
    const started = performance.now();
    const instances: Record<string, unknown> = {};
    let slowestMember: SaveStats['slowestMember'];
    for (const { name, instance } of members) {
      if (!instance.snapshot) continue;
      const memberStarted = performance.now();
      instances[name] = await instance.snapshot();
      const seconds = (performance.now() - memberStarted) / 1000;
      if (!slowestMember || seconds > slowestMember.seconds) slowestMember = { name, seconds };
    }
    if (Object.keys(instances).length === 0) return;
    const packed = await packBlobs(instances, this.store.dir);
    const packedInstances = packed.json as Record<string, unknown>;
    const file: SnapshotFile = { format: 2, savedAt: new Date().toISOString(), checksum: checksumOf(packedInstances), instances: packedInstances };
    // The blobs are durable (each fsynced and renamed) before the file that names them.
    const kept = new Set(packed.files);
    const previous = await this.store.readJson<SnapshotFile>(CURRENT).catch(() => undefined);
    if (previous) {
      referencedBlobs(previous.instances, kept);
      await rename(this.store.path(CURRENT), this.store.path(PREVIOUS));
    }
    await this.store.writeJson(CURRENT, file);
    await removeUnreferencedBlobs(this.store.dir, kept);
    let bytes = (await stat(this.store.path(CURRENT))).size;
    for (const blob of packed.files) bytes += (await stat(this.store.path(blob))).size;
    this.stats = { seconds: (performance.now() - started) / 1000, bytes, blobBytesWritten: packed.bytesWritten, blobBytesReused: packed.bytesReused, slowestMember };
    this.saves++;
    if (this.stats.seconds >= this.slowest) {
      this.slowest = this.stats.seconds;
      this.slowestSave = this.stats;
    }
    const log = final ? this.logger.info.bind(this.logger) : this.logger.debug.bind(this.logger);
    log('snapshot saved', {
      final,
      seconds: Number(this.stats.seconds.toFixed(3)),
      bytes,
      blobBytesWritten: packed.bytesWritten,
      blobBytesReused: packed.bytesReused,
      ...(slowestMember ? { slowestMember: slowestMember.name, slowestMemberSeconds: Number(slowestMember.seconds.toFixed(3)) } : {}),
    });
  }

  async restore(members: readonly SnapshotMember[]): Promise<boolean> {
    const snapshot = (await this.readValid(CURRENT)) ?? (await this.readValid(PREVIOUS));
    if (!snapshot) return false;
    for (const { name, instance } of members) {
      if (instance.restore && name in snapshot.instances) await instance.restore(snapshot.instances[name]);
    }
    this.logger.info('restored state from snapshot', { savedAt: snapshot.savedAt, instances: Object.keys(snapshot.instances) });
    return true;
  }

  /** A snapshot whose checksum holds and whose blobs are all there and intact; undefined (logged) otherwise. */
  private async readValid(name: string): Promise<SnapshotFile | undefined> {
    let file: SnapshotFile | undefined;
    try {
      file = await this.store.readJson<SnapshotFile>(name);
    } catch (error) {
      this.logger.warn('snapshot unreadable, trying the previous one', { file: this.store.path(name), reason: reasonOf(error) });
      return undefined;
    }
    if (!file) return undefined;
    if ((file.format !== 1 && file.format !== 2) || checksumOf(file.instances ?? {}) !== file.checksum) {
      this.logger.warn('snapshot checksum mismatch, trying the previous one', { file: this.store.path(name) });
      return undefined;
    }
    if (file.format === 1) return file;
    try {
      return { ...file, instances: (await unpackBlobs(file.instances, this.store.dir)) as Record<string, unknown> };
    } catch (error) {
      this.logger.warn('snapshot blob missing or corrupt, trying the previous one', { file: this.store.path(name), reason: reasonOf(error) });
      return undefined;
    }
  }
}
