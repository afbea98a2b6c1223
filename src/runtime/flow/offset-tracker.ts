/**
 * At-least-once bookkeeping for one partition: offsets are handed out in order, acknowledged in
 * any order, and only the contiguous acknowledged prefix may be committed. Commit positions follow
 * Kafka's convention: the NEXT offset to read.
 */
export class OffsetTracker {
  private pending: bigint[] = [];
  private acked = new Set<bigint>();
  private committable: bigint | undefined;

  /** Registers an offset read from the partition (must be increasing). */
  track(offset: bigint): void {
    this.pending.push(offset);
  }

  ack(offset: bigint): void {
    this.acked.add(offset);
    while (this.pending.length > 0 && this.acked.has(this.pending[0])) {
      const head = this.pending.shift()!;
      this.acked.delete(head);
      this.committable = head + 1n;
    }
  }

  /** The position to commit (next offset to read), or undefined when nothing new is committable. */
  get commitPosition(): bigint | undefined {
    return this.committable;
  }

  get outstanding(): number {
    return this.pending.length;
  }
}
