import { TemiError } from '../../runtime/errors.ts';
import type { NeighbourTable } from '../contracts.ts';
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import type { PairSchedule } from './temi-draws.ts';

/**
 * Anchor batches and their neighbours for one round: every epoch visits the anchors in a fresh
 * random order, and each visit draws ONE neighbour uniformly from the anchor's top-k.
 * Entries outside [0, count) are padding (an index may return fewer than k hits) and are skipped;
 * rows with no usable neighbour never serve as anchors.
 */
export class PairSampler implements PairSchedule {
  private readonly anchors: Int32Array;
  private readonly usable: Int32Array;
  private readonly compacted: Int32Array;

  constructor(private readonly neighbours: NeighbourTable, count: number) {
    const k = neighbours.k;
    if (!Number.isInteger(k) || k < 1 || neighbours.indices.length !== count * k) {
      throw new TemiError(
        'TS_ERR_TRAIN_NEIGHBOURS_INVALID',
        `expected a neighbour table of ${count} rows x k >= 1, found k=${k} and ${neighbours.indices.length} entries`,
        { where: 'neighbours' },
      );
    }
    this.usable = new Int32Array(count);
    this.compacted = new Int32Array(count * k);
    const anchors: number[] = [];
    for (let row = 0; row < count; row++) {
      let n = 0;
      for (let j = 0; j < k; j++) {
        const neighbour = neighbours.indices[row * k + j];
        if (neighbour >= 0 && neighbour < count && neighbour !== row) this.compacted[row * k + n++] = neighbour;
      }
      this.usable[row] = n;
      if (n > 0) anchors.push(row);
    }
    if (anchors.length === 0) {
      throw new TemiError('TS_ERR_TRAIN_NEIGHBOURS_INVALID', 'no row has a usable neighbour', { where: 'neighbours' });
    }
    this.anchors = Int32Array.from(anchors);
  }

  get anchorCount(): number {
    return this.anchors.length;
  }

  /** Steps per epoch: full batches only (the reference drops the last partial batch), at least one. */
  stepsPerEpoch(batchSize: number): number {
    return Math.max(1, Math.floor(this.anchors.length / batchSize));
  }

  /** The anchor batches of one epoch; a window smaller than a batch trains as one smaller batch. */
  epochBatches(batchSize: number, random: SeededRandom): Int32Array[] {
    const order = random.permutation(this.anchors.length);
    const size = Math.min(batchSize, this.anchors.length);
    const batches: Int32Array[] = [];
    for (let s = 0; s < this.stepsPerEpoch(batchSize); s++) {
      const batch = new Int32Array(size);
      for (let i = 0; i < size; i++) batch[i] = this.anchors[order[s * size + i]];
      batches.push(batch);
    }
    return batches;
  }

  /** Every step of one epoch: its anchor batch, then one fresh neighbour of each anchor, step by step. */
  epochSteps(batchSize: number, random: SeededRandom): Int32Array[] {
    return this.epochBatches(batchSize, random).map((batch) => this.pairRows(batch, random));
  }

  /** Row indices of the 2B rows one step sees: the anchors, then one fresh neighbour of each. */
  pairRows(anchors: Int32Array, random: SeededRandom): Int32Array {
    const k = this.neighbours.k;
    const rows = new Int32Array(anchors.length * 2);
    rows.set(anchors);
    for (let i = 0; i < anchors.length; i++) {
      const a = anchors[i];
      rows[anchors.length + i] = this.compacted[a * k + random.int(this.usable[a])];
    }
    return rows;
  }
}
