import type { PipelineCheckContext, ValidationIssue } from '../../runtime/contracts/index.ts';

/**
 * A round mines each row's k nearest neighbours and waits until the index holds more than k
 * vectors; an index that can never hold that many means no round, ever, and every record leaves
 * unassigned with exit 0. The kmeans trainer does not use the neighbours but its rounds wait
 * the same way.
 */
export function checkTrainPipeline(config: { readonly k: number; readonly trainer: string }, context: PipelineCheckContext): ValidationIssue[] {
  const index = [...context.before].reverse().find((u) => u.plugin === 'index');
  const capacity = (index?.config as { capacity?: number } | undefined)?.capacity;
  if (!index || capacity === undefined || config.k < capacity) return [];
  const kmeans = config.trainer === 'kmeans' ? ' (the kmeans trainer does not use k, but its rounds wait for the same)' : '';
  return [
    {
      code: 'TS_ERR_PIPELINE_TRAIN_K',
      path: `${context.path}.with.k`,
      expected: `k below the index's capacity (${capacity}, ${index.path}.with.capacity)`,
      found: String(config.k),
      message: `k (${config.k}) must be below the index's capacity (${capacity} at ${index.path}.with.capacity): a round starts only once the index holds more than k vectors${kmeans}, so training would never run; lower k or raise the capacity`,
    },
  ];
}
