/**
 * Which offsets the Kafka source may commit: per partition, the contiguous acknowledged prefix of
 * what it read (at-least-once). Kafka's convention is kept: a commit names the NEXT offset to read.
 *
 * The runtime's OffsetTracker assumes offsets arrive in increasing order. A consumer group breaks
 * that: after a rebalance (or a fetch retried after a broker restart) a partition is read again
 * from its committed position while records of the first reading are still in flight. So this
 * ledger counts outstanding offsets as a multiset: the committable position is the lowest offset
 * still outstanding, or one past the highest offset read when nothing is.
 */
export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read, as kafkajs wants it: a decimal string. */
  readonly offset: string;
}

/**
 * One partition's outstanding offsets. Offsets are numbers, not bigints: exact up to 2^53 (a
 * partition would need nine quadrillion messages to pass that), and a number-keyed Map is several
 * times cheaper per message than a bigint-keyed one on the hot path.
 */
export class PartitionLedger {
  private outstanding = new Map<number, number>();
  private highestRead = -1;
  committed = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Registers a message read from the partition; the returned function acknowledges it (once). */
  read(offset: string): () => void {
    const at = Number(offset);
    this.outstanding.set(at, (this.outstanding.get(at) ?? 0) + 1);
    if (at > this.highestRead) this.highestRead = at;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.ack(at);
    };
  }

  private ack(offset: number): void {
    const left = (this.outstanding.get(offset) ?? 0) - 1;
    if (left > 0) this.outstanding.set(offset, left);
    else this.outstanding.delete(offset);
  }

  get pendingCount(): number {
    let n = 0;
    for (const c of this.outstanding.values()) n += c;
    return n;
  }

  /** Next offset to read such that every offset below it that was read is acknowledged; -1 before any read. */
  position(): number {
    if (this.highestRead < 0) return -1;
    let lowest = Infinity;
    for (const offset of this.outstanding.keys()) if (offset < lowest) lowest = offset;
    return lowest === Infinity ? this.highestRead + 1 : lowest;
  }
}

export class CommitLedger {
  private partitions = new Map<string, PartitionLedger>();

  /** The ledger of one partition; the consumer takes it once per fetched batch. */
  partition(topic: string, partition: number): PartitionLedger {
    const id = `${partition}:${topic}`;
    let ledger = this.partitions.get(id);
    if (!ledger) {
      ledger = new PartitionLedger(topic, partition);
      this.partitions.set(id, ledger);
    }
    return ledger;
  }

  /** Registers a message read from the partition; the returned function acknowledges it (once). */
  read(topic: string, partition: number, offset: string): () => void {
    return this.partition(topic, partition).read(offset);
  }

  /** Positions that moved past the last commit, to pass to commitOffsets. */
  due(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const ledger of this.partitions.values()) {
      const position = ledger.position();
      if (position >= 0 && position > ledger.committed) out.push({ topic: ledger.topic, partition: ledger.partition, offset: String(position) });
    }
    return out;
  }

  /** Records that the broker accepted these positions. */
  committed(positions: readonly TopicPartitionOffset[]): void {
    for (const p of positions) {
      const ledger = this.partition(p.topic, p.partition);
      const at = Number(p.offset);
      if (at > ledger.committed) ledger.committed = at;
    }
  }

  /** Committed positions as {topic: {partition: offset}}, for snapshots and logs. */
  committedPositions(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const ledger of this.partitions.values()) {
      if (ledger.committed < 0) continue;
      (out[ledger.topic] ??= {})[String(ledger.partition)] = String(ledger.committed);
    }
    return out;
  }

  /** Messages read and not yet acknowledged, over all partitions. */
  get outstanding(): number {
    let n = 0;
    for (const ledger of this.partitions.values()) n += ledger.pendingCount;
    return n;
  }
}
