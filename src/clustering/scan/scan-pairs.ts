import type { NeighbourTable } from '../contracts.ts';
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { type PairDraw, type PairDrawer, validNeighbours } from './pair-drawer.ts';

/**
 * SCAN's NeighborsDataset: the neighbour of anchor i is drawn uniformly, on every visit, from
 * {i} plus its top-k neighbours (the reference mines k+1 neighbours with the anchor first).
 */
export class ScanPairDrawer implements PairDrawer {
  constructor(private readonly table: NeighbourTable, private readonly topK: number) {}

  draw(anchors: Int32Array, random: SeededRandom): PairDraw {
    const { indices, k } = this.table;
    const neighbours = new Int32Array(anchors.length);
    for (let b = 0; b < anchors.length; b++) {
      const anchor = anchors[b];
      const pool = validNeighbours(indices, k, anchor, this.topK) + 1;
      const pick = random.int(pool);
      neighbours[b] = pick === 0 ? anchor : indices[anchor * k + pick - 1];
    }
    return { neighbours };
  }
}
