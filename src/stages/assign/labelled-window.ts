import type { RecordMetadata, StreamRecord } from '../../runtime/contracts/index.ts';

/** What the assign stage remembers of a record it labelled, to revise that label later. */
export interface WindowEntry {
  readonly id: bigint;
  readonly key: string;
  readonly embedding: Float32Array;
  readonly metadata: RecordMetadata;
  /** The label downstream holds now (first emitted or last revised). */
  cluster: number | null;
  modelVersion: number | null;
  /** Newest model version this record was checked against (0: none), whether or not its cluster changed. */
  checkedVersion: number;
}

/**
 * The most recent labelled records, oldest first, at most `capacity` of them: the records a newer
 * model may still revise. A record seen again (a re-read after a restart) replaces its older entry
 * and counts as newest. Memory is bounded by capacity x (embedding + a few fields).
 */
export class LabelledWindow {
  private readonly entries = new Map<bigint, WindowEntry>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keeps a record that just left assign with its first label; records without an embedding or assignment are not revisable. */
  remember(record: StreamRecord): void {
    const a = record.payload.assignment;
    const embedding = record.payload.embedding;
    if (!a || a.revision || !embedding || this.capacity === 0) return;
    this.entries.delete(record.id);
    this.entries.set(record.id, {
      id: record.id,
      key: record.key,
      embedding,
      metadata: record.metadata,
      cluster: a.cluster,
      modelVersion: a.modelVersion,
      checkedVersion: a.modelVersion ?? 0,
    });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** True while `entry` is still the window's entry for its id (not evicted, not replaced). */
  holds(entry: WindowEntry): boolean {
    return this.entries.get(entry.id) === entry;
  }

  /**
   * Entries not yet checked against `version`, oldest first, in chunks of at most `size`. The
   * iteration is live: records remembered while it runs are visited too (a record labelled by an
   * older model just before `version` was published must not be missed).
   */
  *staleChunks(version: number, size: number): Generator<WindowEntry[]> {
    let chunk: WindowEntry[] = [];
    for (const entry of this.entries.values()) {
      if (entry.checkedVersion >= version) continue;
      chunk.push(entry);
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }
}
