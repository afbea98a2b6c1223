import type { TrainingSet } from '../contracts.ts';
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { type PairDraw, type PairDrawer, validNeighbours } from '../scan/pair-drawer.ts';
import { gaussianNeighbourWeights } from './neighbour-weights.ts';

/**
 * TSP's pairs: the neighbour of anchor i is drawn uniformly from its top-K neighbours (the anchor
 * itself is NOT in the pool: with weight exp(0) = 1 it would outweigh every real neighbour), and
 * the pair carries its Gaussian weight w_ij into the loss, where the consistency term becomes the
 * weighted mean -sum_b w_b log<p(x_b), p(x'_b)> / sum_b w_b.
 */
export class TspPairDrawer implements PairDrawer {
  private readonly weights: Float32Array;
  private readonly width: number;

  constructor(private readonly data: TrainingSet, topK: number, sigmaRank: number) {
    this.width = Math.min(topK, data.neighbours.k);
    this.weights = gaussianNeighbourWeights(data, topK, sigmaRank);
  }

  draw(anchors: Int32Array, random: SeededRandom): PairDraw {
    const { indices, k } = this.data.neighbours;
    const neighbours = new Int32Array(anchors.length);
    const weights = new Float32Array(anchors.length);
    for (let b = 0; b < anchors.length; b++) {
      const anchor = anchors[b];
      const pool = validNeighbours(indices, k, anchor, this.width);
      if (pool === 0) {
        // an isolated row pairs with itself at weight 1, as SCAN's pool would
        neighbours[b] = anchor;
        weights[b] = 1;
        continue;
      }
      const pick = random.int(pool);
      neighbours[b] = indices[anchor * k + pick];
      weights[b] = this.weights[anchor * this.width + pick];
    }
    return { neighbours, weights };
  }
}
