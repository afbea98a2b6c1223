import { TemiError } from '../runtime/errors.ts';
import type { TrainRoundOptions } from './contracts.ts';

/**
 * Epochs a round runs: `epochs`, raised until the round takes at least `minSteps` steps.
 * Early windows are small (a few steps per epoch), so an epoch budget alone leaves the first
 * models, which label the start of a stream, barely trained.
 */
export function roundEpochs(options: Pick<TrainRoundOptions, 'epochs' | 'minSteps'>, stepsPerEpoch: number, where: string): number {
  if (!Number.isInteger(options.epochs) || options.epochs < 1) {
    throw new TemiError('TS_ERR_TRAIN_OPTIONS_INVALID', `expected epochs >= 1, found ${options.epochs}`, { where: `${where}.epochs` });
  }
  const minSteps = options.minSteps ?? 0;
  if (!Number.isInteger(minSteps) || minSteps < 0) {
    throw new TemiError('TS_ERR_TRAIN_OPTIONS_INVALID', `expected minSteps to be an integer >= 0, found ${options.minSteps}`, { where: `${where}.minSteps` });
  }
  return Math.max(options.epochs, Math.ceil(minSteps / Math.max(1, stepsPerEpoch)));
}
