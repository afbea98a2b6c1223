export { createTspTrainer, TSP_DEFAULTS, type TspOptions } from './tsp-trainer.ts';
export { gaussianNeighbourWeights } from './neighbour-weights.ts';
export { kmeansHeadInit } from './kmeans-head-init.ts';
