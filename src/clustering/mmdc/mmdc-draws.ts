import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { drawViews, type ViewParameters } from './augment.ts';
import { drawGmmTargets } from './gmm-targets.ts';
import type { MmdcConfig } from './mmdc-config.ts';
import { initialParameters } from './trunk-init.ts';
import type { TrunkLayout } from './trunk-layout.ts';

/**
 * Where an MMDC trainer's random draws come from, in the order it asks for them: the initial
 * parameters (once), each round's targets, and per epoch an order of the window and one view per
 * position of that order. The seeded defaults draw them from the config's seed; a replay of
 * draws recorded by the PyTorch reference passes its own (bench/reference/mmdc-trace.ts), so
 * both implementations train from identical inputs.
 */
export interface MmdcDraws {
  initialParameters(layout: TrunkLayout, random: SeededRandom): Record<string, Float32Array>;
  targets(count: number, config: MmdcConfig, random: SeededRandom): Float32Array;
  order(count: number, random: SeededRandom): Int32Array;
  /** One view per position of the epoch's order; `rotationTask` draws the rotation task's plainer views. */
  views(count: number, config: MmdcConfig, random: SeededRandom, rotationTask: boolean): ViewParameters;
}

export const SEEDED_MMDC_DRAWS: MmdcDraws = Object.freeze<MmdcDraws>({
  initialParameters,
  targets: (count, config, random) => drawGmmTargets(count, config.clusters, config.outputDim, config.sigma, random),
  order: (count, random) => random.permutation(count),
  views: (count, config, random, rotationTask) => drawViews(count, config, random, !rotationTask),
});
