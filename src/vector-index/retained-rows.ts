import type { RetentionPolicy } from './index-config.ts';
import { uniformIndexAt } from './stream-hash.ts';

/**
 * The raw Float32 copy of what the index keeps, and the retention decisions, with no usearch in
 * sight: the engine turns each batch's outcome into graph removals and insertions.
 *
 * - window: slots form a ring; when full, the oldest slot is overwritten.
 * - reservoir (Algorithm R): the n-th new key is kept with probability capacity/n, replacing a
 *   uniformly chosen slot, so the kept set is a uniform sample of every key ever offered.
 *
 * A key already kept is updated in place (redelivered records keep their age and do not count
 * as new stream items); within a batch the last occurrence of a key wins.
 */

export interface BatchOutcome {
  /** Keys to take out of the graph: kept before this batch and now gone or re-vectored. */
  readonly graphRemovals: bigint[];
  /** Slots whose (key, vector) must be (re)inserted into the graph. */
  readonly graphInsertSlots: number[];
  readonly inserted: number;
  readonly updated: number;
  /** Kept before the batch, not kept after. */
  readonly evicted: bigint[];
  /** Keys of the batch not kept after it (unsampled, or pushed out by a later row of the same batch). */
  readonly notKept: bigint[];
}

export interface RetainedRowsState {
  readonly policy: RetentionPolicy;
  readonly capacity: number;
  readonly dim: number;
  readonly seed: number;
  readonly size: number;
  readonly head: number;
  readonly seen: number;
  /** size keys and rows, in slot order. */
  readonly keys: BigUint64Array;
  readonly vectors: Float32Array;
}

const INITIAL_SLOTS = 1024;

export class RetainedRows {
  /** Grown by doubling up to capacity, so a large capacity costs memory only once it fills. */
  private keyStore: BigUint64Array;
  private vectorStore: Float32Array;
  private readonly slotOfKey = new Map<bigint, number>();
  private filled = 0;
  /** window: the oldest slot once full. */
  private head = 0;
  /** New keys ever offered (the reservoir's n). */
  private seen = 0;

  constructor(
    readonly policy: RetentionPolicy,
    readonly capacity: number,
    readonly dim: number,
    readonly seed: number,
  ) {
    const slots = Math.min(capacity, INITIAL_SLOTS);
    this.keyStore = new BigUint64Array(slots);
    this.vectorStore = new Float32Array(slots * dim);
  }

  /** Key of each slot (valid below `size`). */
  get keys(): BigUint64Array {
    return this.keyStore;
  }

  /** Raw row of each slot, row-major (valid below `size`). */
  get vectors(): Float32Array {
    return this.vectorStore;
  }

  private makeRoomFor(slot: number): void {
    if (slot < this.keyStore.length) return;
    const slots = Math.min(this.capacity, Math.max(slot + 1, this.keyStore.length * 2));
    const keys = new BigUint64Array(slots);
    keys.set(this.keyStore);
    const vectors = new Float32Array(slots * this.dim);
    vectors.set(this.vectorStore);
    this.keyStore = keys;
    this.vectorStore = vectors;
  }

  get size(): number {
    return this.filled;
  }

  get offered(): number {
    return this.seen;
  }

  has(key: bigint): boolean {
    return this.slotOfKey.has(key);
  }

  slotOf(key: bigint): number | undefined {
    return this.slotOfKey.get(key);
  }

  /** Kept slots, oldest first for a window, slot order for a reservoir (its slots have no age order). */
  orderedSlots(): Int32Array {
    const out = new Int32Array(this.filled);
    const start = this.policy === 'window' && this.filled === this.capacity ? this.head : 0;
    for (let i = 0; i < this.filled; i++) out[i] = (start + i) % this.capacity;
    return out;
  }

  offer(keys: BigUint64Array, vectors: Float32Array): BatchOutcome {
    const dim = this.dim;
    const wasKept = new Map<bigint, boolean>();
    const touch = (key: bigint): void => {
      if (!wasKept.has(key)) wasKept.set(key, this.slotOfKey.has(key));
    };
    const revectored = new Set<bigint>();
    let updated = 0;
    for (let row = 0; row < keys.length; row++) {
      const key = keys[row];
      const vector = vectors.subarray(row * dim, (row + 1) * dim);
      touch(key);
      const existing = this.slotOfKey.get(key);
      if (existing !== undefined) {
        this.vectors.set(vector, existing * dim);
        revectored.add(key);
        updated++;
        continue;
      }
      this.seen++;
      const slot = this.slotForNewKey();
      if (slot < 0) continue;
      if (slot < this.filled) {
        const leaving = this.keys[slot];
        touch(leaving);
        this.slotOfKey.delete(leaving);
      } else {
        this.makeRoomFor(slot);
        this.filled++;
      }
      this.keys[slot] = key;
      this.vectors.set(vector, slot * dim);
      this.slotOfKey.set(key, slot);
      revectored.add(key);
    }

    const graphRemovals: bigint[] = [];
    const graphInsertSlots: number[] = [];
    const evicted: bigint[] = [];
    let inserted = 0;
    for (const [key, before] of wasKept) {
      const slot = this.slotOfKey.get(key);
      const changed = revectored.has(key);
      if (before && (slot === undefined || changed)) graphRemovals.push(key);
      if (slot !== undefined && (changed || !before)) graphInsertSlots.push(slot);
      if (before && slot === undefined) evicted.push(key);
      if (!before && slot !== undefined) inserted++;
    }
    const notKept: bigint[] = [];
    const batchKeys = new Set<bigint>(keys);
    for (const key of batchKeys) if (!this.slotOfKey.has(key)) notKept.push(key);
    return { graphRemovals, graphInsertSlots, inserted, updated, evicted, notKept };
  }

  private slotForNewKey(): number {
    if (this.filled < this.capacity) return this.filled;
    if (this.policy === 'window') {
      const slot = this.head;
      this.head = (this.head + 1) % this.capacity;
      return slot;
    }
    const pick = uniformIndexAt(this.seed, this.seen, this.seen); // j uniform in [0, n)
    return pick < this.capacity ? pick : -1;
  }

  snapshot(): RetainedRowsState {
    const view = this.view();
    return { ...view, keys: view.keys.slice(), vectors: view.vectors.slice() };
  }

  /**
   * The same state as snapshot(), over this object's own arrays instead of copies: for writing
   * it out at once (the sidecar), where a copy of a 20,000 x 784 window would add 63 MB to the
   * peak of every save. Valid until the next offer().
   */
  view(): RetainedRowsState {
    return {
      policy: this.policy,
      capacity: this.capacity,
      dim: this.dim,
      seed: this.seed,
      size: this.filled,
      head: this.head,
      seen: this.seen,
      keys: this.keys.subarray(0, this.filled),
      vectors: this.vectors.subarray(0, this.filled * this.dim),
    };
  }

  static restore(state: RetainedRowsState): RetainedRows {
    const rows = new RetainedRows(state.policy, state.capacity, state.dim, state.seed);
    if (state.size > 0) rows.makeRoomFor(state.size - 1);
    rows.keys.set(state.keys.subarray(0, state.size));
    rows.vectors.set(state.vectors.subarray(0, state.size * state.dim));
    for (let slot = 0; slot < state.size; slot++) rows.slotOfKey.set(rows.keys[slot], slot);
    rows.filled = state.size;
    rows.head = state.head;
    rows.seen = state.seen;
    return rows;
  }
}
