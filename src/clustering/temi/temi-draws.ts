import type { NeighbourTable } from '../contracts.ts';
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import type { HeadDimensions, ParameterName } from './head-layout.ts';

/** The training pairs of one round: for each step, 2B row indices (the anchors, then one neighbour of each). */
export interface PairSchedule {
  stepsPerEpoch(batchSize: number): number;
  /** The steps of the next epoch, in order. */
  epochSteps(batchSize: number, random: SeededRandom): Int32Array[];
}

/**
 * Where a TEMI trainer's random draws come from: its initial head parameters and each round's
 * pairs. The defaults (seeded-draws.ts) draw both from the config's seed. A replay of draws
 * recorded by another implementation passes its own, so the two trainers can be compared from
 * identical inputs (bench/reference/temi-trace.ts).
 */
export interface TemiDraws {
  initialHeads(dims: HeadDimensions, random: SeededRandom): Record<ParameterName, Float32Array>;
  pairs(neighbours: NeighbourTable, count: number): PairSchedule;
}
