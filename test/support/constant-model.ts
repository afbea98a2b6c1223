import type { ClusterModel } from '../../src/clustering/contracts.ts';

/**
 * A useless model for round-choice specs: every row in cluster 0 with confidence 1 (a label-free
 * score of 0), as a model in service that a better candidate should replace.
 */
export function constantModel(numClusters: number, dim: number): ClusterModel {
  const model: ClusterModel = {
    trainer: 'constant',
    numClusters,
    dim,
    assign: (_e, count) => ({ cluster: new Int32Array(count), confidence: new Float32Array(count).fill(1) }),
    withPermutation: () => model,
    serialize: () => ({ trainer: 'constant', numClusters, dim, state: null }),
    dispose: () => {},
  };
  return model;
}
