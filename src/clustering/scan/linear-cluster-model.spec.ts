import { describe, expect, it } from 'vitest';
import { tf } from '../../tf/tf.ts';
import { LinearClusterModel } from './linear-cluster-model.ts';

// 2-dim inputs, 3 clusters: cluster 0 likes +x, cluster 1 likes +y, cluster 2 has a bias
const weights = Float32Array.from([2, 0, 0, /* x row */ 0, 2, 0 /* y row */]);
const bias = Float32Array.from([0, 0, 1]);
const points = Float32Array.from([3, 0, 0, 3, 0, 0]);

describe('LinearClusterModel', () => {
  it('assigns argmax logits with the softmax probability as confidence', () => {
    const model = new LinearClusterModel('scan', 2, 3, weights, bias);
    const { cluster, confidence } = model.assign(points, 3);
    expect(Array.from(cluster)).toEqual([0, 1, 2]);
    const e = Math.exp;
    expect(confidence[0]).toBeCloseTo(e(6) / (e(6) + 1 + e(1)), 5);
    expect(confidence[2]).toBeCloseTo(e(1) / (2 + e(1)), 5);
  });

  it('renames clusters with a permutation and survives serialisation', () => {
    const model = new LinearClusterModel('tsp', 2, 3, weights, bias).withPermutation(Int32Array.from([2, 0, 1]));
    expect(Array.from(model.assign(points, 3).cluster)).toEqual([2, 0, 1]);
    const copy = LinearClusterModel.deserialize(JSON.parse(JSON.stringify(model.serialize())));
    expect(copy.trainer).toBe('tsp');
    expect(Array.from(copy.assign(points, 3).cluster)).toEqual([2, 0, 1]);
  });

  it('rejects a bad permutation, a wrong input size and a damaged state with coded errors', () => {
    const model = new LinearClusterModel('scan', 2, 3, weights, bias);
    expect(() => model.withPermutation(Int32Array.from([0, 0, 1]))).toThrow(/TS_ERR_MODEL_PERMUTATION/);
    expect(() => model.assign(Float32Array.from([1, 2, 3]), 2)).toThrow(/TS_ERR_MODEL_INPUT_SHAPE/);
    expect(() => LinearClusterModel.deserialize({ trainer: 'scan', numClusters: 3, dim: 2, state: { weights: 'AAAA', bias: '' } })).toThrow(
      /TS_ERR_MODEL_STATE_INVALID/,
    );
  });

  it('holds no tensors between calls', () => {
    const before = tf.memory().numTensors;
    const model = new LinearClusterModel('scan', 2, 3, weights, bias);
    model.assign(points, 3);
    expect(tf.memory().numTensors).toBe(before);
  });
});
