import { describe, expect, it } from 'vitest';
import { simulateStream } from '../../bench/stream-simulation.ts';
import { StreamingKMeansTrainer } from '../../src/clustering/kmeans/streaming-kmeans-trainer.ts';
import { clusteringAccuracy } from '../../src/clustering/metrics/index.ts';
import { blobs, BLOB_CLUSTERS } from '../support/blob-window.ts';

describe('a stream in class order', () => {
  it('brings rounds forward as new classes arrive, so the late classes get clusters of their own before the end', async () => {
    const data = blobs(900, 11);
    const order = Int32Array.from(Array.from({ length: data.count }, (_, i) => i).sort((a, b) => data.labels[a] - data.labels[b] || a - b));
    const trainer = new StreamingKMeansTrainer({ numClusters: BLOB_CLUSTERS, seed: 0, metric: 'cosine' });
    const outcome = await simulateStream(data.embeddings, data.dim, order, trainer, {
      clusters: BLOB_CLUSTERS,
      seed: 0,
      bootstrapRecords: 100,
      bootstrapWindow: true,
      chunk: 10,
      // Only the first round and drift can start a round before the end of the stream.
      round: { firstRoundAt: 150, everyRecords: 1_000_000, epochs: 1, k: 10, choice: { clusters: BLOB_CLUSTERS, seed: 0, kmeans: true, window: true, refine: false }, novelty: { records: 50, share: 0.25 } },
    });
    expect(outcome.log.filter((line) => line.includes('round brought forward')).length).toBeGreaterThanOrEqual(2);
    // The last class's records were labelled on arrival by a model that already had a cluster for it.
    const lastClass = Array.from(order.subarray(700));
    const firstEmitted = Int32Array.from(lastClass, (i) => outcome.firstEmitted[i]);
    expect(new Set(firstEmitted).size).toBe(1);
    const earlier = new Set(Array.from(order.subarray(0, 550), (i) => outcome.delivered[i]));
    expect(earlier.has(outcome.delivered[order[800]])).toBe(false);
    expect(clusteringAccuracy(data.labels, outcome.delivered)).toBeGreaterThan(0.98);
  });
});
