import type { SeededRandom } from '../../numeric/seeded-random.ts';

/** The neighbour drawn for each anchor of a batch and, for weighted objectives, the pair's weight. */
export interface PairDraw {
  readonly neighbours: Int32Array;
  readonly weights?: Float32Array;
}

export interface PairDrawer {
  draw(anchors: Int32Array, random: SeededRandom): PairDraw;
}

/** How many leading entries of row `row` in a (count x k) table are real neighbours (the index pads with -1). */
export function validNeighbours(indices: Int32Array, k: number, row: number, limit: number): number {
  const upTo = Math.min(k, limit);
  let n = 0;
  while (n < upTo && indices[row * k + n] >= 0) n += 1;
  return n;
}
