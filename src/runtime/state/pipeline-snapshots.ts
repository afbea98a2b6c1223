import { createHash } from 'node:crypto';
import type { Lifecycle, SourceInstance } from '../contracts/plugin.ts';
import type { Logger, StateStore } from '../contracts/services.ts';
import { reasonOf } from '../errors.ts';

interface SnapshotFile {
  readonly format: 1;
  readonly savedAt: string;
  readonly checksum: string;
  readonly instances: Record<string, unknown>;
}

export interface SnapshotMember {
  readonly name: string;
  readonly instance: Lifecycle;
}

const CURRENT = 'snapshot.json';
const PREVIOUS = 'snapshot.previous.json';

function checksumOf(instances: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(instances)).digest('hex');
}

/**
 * Saves every instance's snapshot together in one file (atomic write, checksum), keeping the
 * previous one; restore falls back to the previous file when the current one is corrupt.
 */
export class PipelineSnapshots {
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly store: StateStore, private readonly logger: Logger) {}

  /**
   * Snapshots every member; with a source that checkpoints, its positions are captured first and
   * committed only after the snapshot is durable.
   */
  save(members: readonly SnapshotMember[], source?: SourceInstance): Promise<void> {
    this.saving = this.saving.then(async () => {
      const checkpoint = source?.checkpoint?.();
      await this.saveNow(members);
      if (checkpoint !== undefined) await source!.commitCheckpoint?.(checkpoint);
    });
    return this.saving;
  }

  private async saveNow(members: readonly SnapshotMember[]): Promise<void> {
    const instances: Record<string, unknown> = {};
    for (const { name, instance } of members) {
      if (instance.snapshot) instances[name] = await instance.snapshot();
    }
    if (Object.keys(instances).length === 0) return;
    const existing = await this.store.readJson<SnapshotFile>(CURRENT).catch(() => undefined);
    if (existing) await this.store.writeJson(PREVIOUS, existing);
    const file: SnapshotFile = { format: 1, savedAt: new Date().toISOString(), checksum: checksumOf(instances), instances };
    await this.store.writeJson(CURRENT, file);
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

  private async readValid(name: string): Promise<SnapshotFile | undefined> {
    let file: SnapshotFile | undefined;
    try {
      file = await this.store.readJson<SnapshotFile>(name);
    } catch (error) {
      this.logger.warn('snapshot unreadable, trying the previous one', { file: this.store.path(name), reason: reasonOf(error) });
      return undefined;
    }
    if (!file) return undefined;
    if (file.format !== 1 || checksumOf(file.instances ?? {}) !== file.checksum) {
      this.logger.warn('snapshot checksum mismatch, trying the previous one', { file: this.store.path(name) });
      return undefined;
    }
    return file;
  }
}
