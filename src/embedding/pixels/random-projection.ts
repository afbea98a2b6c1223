import { SeededRandom } from '../../numeric/seeded-random.ts';

/**
 * A fixed Gaussian random projection (Johnson-Lindenstrauss): pairwise distances are kept within a
 * small factor with high probability, at a cost independent of any data. Same seed, same matrix,
 * on every machine and every run, so embeddings from two processes are comparable.
 */
export class RandomProjection {
  /** Row-major outputDim x inputDim. */
  private readonly matrix: Float32Array;

  constructor(readonly inputDim: number, readonly outputDim: number, seed: number) {
    const random = new SeededRandom(seed);
    const scale = 1 / Math.sqrt(outputDim);
    this.matrix = new Float32Array(inputDim * outputDim);
    for (let i = 0; i < this.matrix.length; i++) this.matrix[i] = random.normal() * scale;
  }

  apply(x: Float32Array): Float32Array {
    const { inputDim, outputDim, matrix } = this;
    const out = new Float32Array(outputDim);
    for (let o = 0; o < outputDim; o++) {
      const row = o * inputDim;
      let sum = 0;
      for (let i = 0; i < inputDim; i++) sum += matrix[row + i] * x[i];
      out[o] = sum;
    }
    return out;
  }
}
