import path from 'node:path';
import { buildTinyLayersModel, saveLayersModel } from '../../../embedding/support/tiny-models.ts';
import { stageHarness, type StageHarness } from './stage-harness.ts';

/**
 * A stage harness (in-flight bound 512) whose folder holds the tiny layers model for
 * `size` x `size` grey images (seed 8; 8-d "features") at `tiny/model.json`.
 */
export async function tinyModelHarness(size: number): Promise<StageHarness> {
  const harness = await stageHarness(512);
  const model = buildTinyLayersModel(size, 1, 8);
  await saveLayersModel(model, path.join(harness.dir, 'tiny'));
  model.dispose();
  return harness;
}
