import { roundEpochs } from '../../clustering/round-epochs.ts';
import type { ProgressStatus } from '../../runtime/contracts/index.ts';
import type { RoundProgress } from './periodic-trainer.ts';

/**
 * The progress line's "train" entry: which round, and how far into it ("round 2, epoch 40/125").
 * The epoch total is the one the trainer computes from `epochs`, `minSteps` and the window's
 * batches per epoch; a round's last phase, the label-free choice, can take as long as training.
 */
export function roundProgress(status: ProgressStatus, settings: { readonly epochs: number; readonly minSteps: number; readonly batchSize: number }): (report: RoundProgress) => void {
  return ({ round, phase, rows, epoch }) => {
    if (phase === 'mining') status.set(`round ${round}, mining neighbours`);
    else if (phase === 'choosing') status.set(`round ${round}, choosing a model`);
    else if (phase === 'done') status.set(`round ${round} done`);
    else if (epoch !== undefined && rows !== undefined) {
      // Trainers drop the last partial batch of an epoch.
      const total = roundEpochs(settings, Math.max(1, Math.floor(rows / settings.batchSize)), 'train');
      status.set(`round ${round}, epoch ${epoch}/${Math.max(total, epoch)}`);
    }
  };
}
