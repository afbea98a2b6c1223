import { initialHeadValues } from './head-init.ts';
import { PairSampler } from './pair-sampler.ts';
import type { TemiDraws } from './temi-draws.ts';

/** The trainer's own draws: initial heads and pairs from its seeded random numbers. */
export const SEEDED_DRAWS: TemiDraws = Object.freeze<TemiDraws>({
  initialHeads: initialHeadValues,
  pairs: (neighbours, count) => new PairSampler(neighbours, count),
});
