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

class PartitionLedger {
  private outstanding = new Map<bigint, number>();
  private highestRead: bigint | undefined;
  committed: bigint | undefined;

  read(offset: bigint): void {
    this.outstanding.set(offset, (this.outstanding.get(offset) ?? 0) + 1);
    if (this.highestRead === undefined || offset > this.highestRead) this.highestRead = offset;
  }

  ack(offset: bigint): void {
    const left = (this.outstanding.get(offset) ?? 0) - 1;
    if (left > 0) this.outstanding.set(offset, left);
    else this.outstanding.delete(offset);
  }

  get pendingCount(): number {
    let n = 0;
    for (const c of this.outstanding.values()) n += c;
    return n;
  }

  /** Next offset to read such that every offset below it that was read is acknowledged. */
  position(): bigint | undefined {
    if (this.highestRead === undefined) return undefined;
    let lowest: bigint | undefined;
    for (const offset of this.outstanding.keys()) if (lowest === undefined || offset < lowest) lowest = offset;
    return lowest ?? this.highestRead + 1n;
  }
}

export class CommitLedger {
  private partitions = new Map<string, { topic: string; partition: number; ledger: PartitionLedger }>();

  private entry(topic: string, partition: number): PartitionLedger {
    const id = `${partition}:${topic}`;
    let e = this.partitions.get(id);
    if (!e) {
      e = { topic, partition, ledger: new PartitionLedger() };
      this.partitions.set(id, e);
    }
    return e.ledger;
  }

  /** Registers a message read from the partition; the returned function acknowledges it (once). */
  read(topic: string, partition: number, offset: string): () => void {
    const ledger = this.entry(topic, partition);
    const at = BigInt(offset);
    ledger.read(at);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      ledger.ack(at);
    };
  }

  /** Positions that moved past the last commit, to pass to commitOffsets. */
  due(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const { topic, partition, ledger } of this.partitions.values()) {
      const position = ledger.position();
      if (position !== undefined && (ledger.committed === undefined || position > ledger.committed)) out.push({ topic, partition, offset: position.toString() });
    }
    return out;
  }

  /** Records that the broker accepted these positions. */
  committed(positions: readonly TopicPartitionOffset[]): void {
    for (const p of positions) {
      const ledger = this.entry(p.topic, p.partition);
      const at = BigInt(p.offset);
      if (ledger.committed === undefined || at > ledger.committed) ledger.committed = at;
    }
  }

  /** Committed positions as {topic: {partition: offset}}, for snapshots and logs. */
  committedPositions(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const { topic, partition, ledger } of this.partitions.values()) {
      if (ledger.committed === undefined) continue;
      (out[topic] ??= {})[String(partition)] = ledger.committed.toString();
    }
    return out;
  }

  /** Messages read and not yet acknowledged, over all partitions. */
  get outstanding(): number {
    let n = 0;
    for (const { ledger } of this.partitions.values()) n += ledger.pendingCount;
    return n;
  }
}
