export { fitKMeans, type KMeansOptions, type KMeansResult } from './fit-kmeans.ts';
export { KMeansModel, deserializeKMeansModel, type KMeansMetric, type KMeansModelState } from './kmeans-model.ts';
export { StreamingKMeansTrainer, type StreamingKMeansOptions, type StreamingKMeansSnapshot } from './streaming-kmeans-trainer.ts';
