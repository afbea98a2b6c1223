import type { Assignment, ClusterModel, SerializedClusterModel } from '../contracts.ts';
import { TemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import { decodeFloat32, encodeFloat32 } from '../float-codec.ts';

interface LinearState {
  readonly weights: string;
  readonly bias: string;
}

/**
 * One linear clustering head, logits = x W + b, the serving model of the scan and tsp trainers.
 * Holds plain arrays and builds tensors only inside assign's tidy, so a model never owns GPU/wasm
 * memory and dispose has nothing to free.
 */
export class LinearClusterModel implements ClusterModel {
  constructor(
    readonly trainer: string,
    readonly dim: number,
    readonly numClusters: number,
    /** dim x numClusters, row-major. */
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
  ) {
    if (weights.length !== dim * numClusters || bias.length !== numClusters) {
      throw new TemiError('TS_ERR_MODEL_STATE_INVALID', `a ${dim} x ${numClusters} head needs ${dim * numClusters} weights and ${numClusters} biases`, {
        where: trainer,
      });
    }
  }

  assign(embeddings: Float32Array, count: number): Assignment {
    if (embeddings.length !== count * this.dim) {
      throw new TemiError('TS_ERR_MODEL_INPUT_SHAPE', `expected ${count} x ${this.dim} = ${count * this.dim} values, found ${embeddings.length}`, {
        where: this.trainer,
      });
    }
    if (count === 0) return { cluster: new Int32Array(0), confidence: new Float32Array(0) };
    const [cluster, confidence] = tf.tidy(() => {
      const logits = tf.add(tf.matMul(tf.tensor2d(embeddings, [count, this.dim]), tf.tensor2d(this.weights, [this.dim, this.numClusters])), tf.tensor1d(this.bias));
      return [tf.argMax(logits, 1), tf.max(tf.softmax(logits), 1)];
    });
    const out = { cluster: Int32Array.from(cluster.dataSync()), confidence: Float32Array.from(confidence.dataSync()) };
    cluster.dispose();
    confidence.dispose();
    return out;
  }

  withPermutation(permutation: Int32Array): ClusterModel {
    checkPermutation(permutation, this.numClusters, this.trainer);
    const weights = new Float32Array(this.weights.length);
    const bias = new Float32Array(this.numClusters);
    for (let c = 0; c < this.numClusters; c++) {
      const target = permutation[c];
      bias[target] = this.bias[c];
      for (let d = 0; d < this.dim; d++) weights[d * this.numClusters + target] = this.weights[d * this.numClusters + c];
    }
    return new LinearClusterModel(this.trainer, this.dim, this.numClusters, weights, bias);
  }

  serialize(): SerializedClusterModel {
    const state: LinearState = { weights: encodeFloat32(this.weights), bias: encodeFloat32(this.bias) };
    return { trainer: this.trainer, numClusters: this.numClusters, dim: this.dim, state };
  }

  dispose(): void {
    // nothing to free: see the class comment
  }

  static deserialize(serialized: SerializedClusterModel): LinearClusterModel {
    const where = `model(${serialized.trainer})`;
    const state = serialized.state as Partial<LinearState> | null;
    if (!state || typeof state !== 'object') {
      throw new TemiError('TS_ERR_MODEL_STATE_INVALID', 'expected an object with weights and bias', { where });
    }
    const weights = decodeFloat32(state.weights, serialized.dim * serialized.numClusters, `${where}.state.weights`, 'TS_ERR_MODEL_STATE_INVALID');
    const bias = decodeFloat32(state.bias, serialized.numClusters, `${where}.state.bias`, 'TS_ERR_MODEL_STATE_INVALID');
    return new LinearClusterModel(serialized.trainer, serialized.dim, serialized.numClusters, weights, bias);
  }
}

function checkPermutation(permutation: Int32Array, size: number, where: string): void {
  const seen = new Uint8Array(size);
  for (const target of permutation) {
    if (target < 0 || target >= size || seen[target]) {
      throw new TemiError('TS_ERR_MODEL_PERMUTATION', `expected a permutation of 0..${size - 1}, found [${Array.from(permutation).join(', ')}]`, { where });
    }
    seen[target] = 1;
  }
  if (permutation.length !== size) {
    throw new TemiError('TS_ERR_MODEL_PERMUTATION', `expected ${size} entries, found ${permutation.length}`, { where });
  }
}
