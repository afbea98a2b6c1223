import { SeededRandom } from '../../numeric/seeded-random.ts';
import { symmetricEigen } from '../../numeric/symmetric-eigen.ts';

export interface PcaOptions {
  readonly components: number;
  readonly seed: number;
  /** Subspace iterations; 30 is plenty for the variance-ordered components of image data. */
  readonly iterations?: number;
}

/** What a fitted PCA keeps; plain arrays so it can ride in a pipeline snapshot. */
export interface PcaState {
  readonly inputDim: number;
  readonly mean: number[];
  /** Row-major components x inputDim, unit rows, ordered by explained variance. */
  readonly components: number[];
  readonly variances: number[];
  readonly totalVariance: number;
}

/**
 * Principal component projection fitted on a sample. The fit is block subspace iteration on the
 * covariance followed by a Rayleigh-Ritz step, so it costs O(d^2 k) per iteration instead of the
 * O(d^3) of a full eigen-decomposition: for 28x28 images and 64 components about a second.
 */
export class PcaProjection {
  private readonly componentRows: Float32Array;
  /** components . mean, so apply() can skip zero pixels (most of an MNIST-like image). */
  private readonly meanOffsets: Float32Array;

  constructor(readonly state: PcaState) {
    this.componentRows = Float32Array.from(state.components);
    const k = this.outputDim;
    const d = state.inputDim;
    this.meanOffsets = new Float32Array(k);
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += this.componentRows[j * d + i] * state.mean[i];
      this.meanOffsets[j] = dot;
    }
  }

  get inputDim(): number {
    return this.state.inputDim;
  }

  get outputDim(): number {
    return this.state.variances.length;
  }

  /** Share of the sample's total variance the kept components explain, per component. */
  explainedVarianceRatio(): number[] {
    return this.state.variances.map((v) => v / this.state.totalVariance);
  }

  apply(x: Float32Array): Float32Array {
    const d = this.inputDim;
    const k = this.outputDim;
    const out = new Float32Array(k);
    const w = this.componentRows;
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      for (let j = 0; j < k; j++) out[j] += w[j * d + i] * xi;
    }
    for (let j = 0; j < k; j++) out[j] -= this.meanOffsets[j];
    return out;
  }

  static fit(rows: readonly Float32Array[], options: PcaOptions): PcaProjection {
    return new PcaProjection(fitPca(rows, options));
  }
}

export function fitPca(rows: readonly Float32Array[], { components, seed, iterations = 30 }: PcaOptions): PcaState {
  const n = rows.length;
  if (n < 2) throw new RangeError(`PCA needs at least 2 samples, got ${n}`);
  const d = rows[0].length;
  if (components > d) throw new RangeError(`PCA cannot keep ${components} components of ${d}-dimensional data`);
  const { mean, covariance } = meanAndCovariance(rows, d);
  let totalVariance = 0;
  for (let i = 0; i < d; i++) totalVariance += covariance[i * d + i];

  const width = Math.min(d, components + 10);
  const random = new SeededRandom(seed);
  let basis: Float64Array[] = Array.from({ length: width }, () => Float64Array.from({ length: d }, () => random.normal()));
  orthonormalize(basis);
  for (let it = 0; it < iterations; it++) {
    basis = basis.map((q) => multiplySymmetric(covariance, d, q));
    orthonormalize(basis);
  }

  // Rayleigh-Ritz: the best rotation of the subspace, with its eigenvalues as variances.
  const image = basis.map((q) => multiplySymmetric(covariance, d, q));
  const small = new Float64Array(width * width);
  for (let a = 0; a < width; a++) for (let b = 0; b < width; b++) small[a * width + b] = dot(basis[a], image[b]);
  for (let a = 0; a < width; a++) for (let b = a + 1; b < width; b++) small[a * width + b] = small[b * width + a] = (small[a * width + b] + small[b * width + a]) / 2;
  const eigen = symmetricEigen(small, width);

  const out: number[] = new Array(components * d).fill(0);
  for (let j = 0; j < components; j++) {
    const row = new Float64Array(d);
    for (let b = 0; b < width; b++) {
      const coefficient = eigen.vectors[j * width + b];
      const q = basis[b];
      for (let i = 0; i < d; i++) row[i] += coefficient * q[i];
    }
    // Eigenvectors have no sign; fix one so the same sample always gives the same embedding.
    let largest = 0;
    for (let i = 0; i < d; i++) if (Math.abs(row[i]) > Math.abs(largest)) largest = row[i];
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) out[j * d + i] = sign * row[i];
  }
  return {
    inputDim: d,
    mean: Array.from(mean),
    components: out,
    variances: Array.from(eigen.values.subarray(0, components), (v) => Math.max(0, v)),
    totalVariance,
  };
}

function meanAndCovariance(rows: readonly Float32Array[], d: number): { mean: Float64Array; covariance: Float64Array } {
  const n = rows.length;
  const mean = new Float64Array(d);
  for (const row of rows) {
    if (row.length !== d) throw new RangeError(`PCA sample rows differ in length (${row.length} vs ${d})`);
    for (let i = 0; i < d; i++) mean[i] += row[i];
  }
  for (let i = 0; i < d; i++) mean[i] /= n;
  // Sum of outer products of the raw rows (zeros skipped: image data is sparse), then the
  // mean correction once; float64 keeps the subtraction exact enough for pixel-scale values.
  const scatter = new Float64Array(d * d);
  const nonZero = new Int32Array(d);
  for (const row of rows) {
    let count = 0;
    for (let i = 0; i < d; i++) if (row[i] !== 0) nonZero[count++] = i;
    for (let a = 0; a < count; a++) {
      const i = nonZero[a];
      const xi = row[i];
      const base = i * d;
      for (let b = a; b < count; b++) {
        const j = nonZero[b];
        scatter[base + j] += xi * row[j];
      }
    }
  }
  const covariance = scatter;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const c = (scatter[i * d + j] - n * mean[i] * mean[j]) / (n - 1);
      covariance[i * d + j] = c;
      covariance[j * d + i] = c;
    }
  }
  return { mean, covariance };
}

function multiplySymmetric(matrix: Float64Array, d: number, x: Float64Array): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const base = i * d;
    let sum = 0;
    for (let j = 0; j < d; j++) sum += matrix[base + j] * x[j];
    out[i] = sum;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Modified Gram-Schmidt, twice for stability; a vector that collapses is replaced by zeros. */
function orthonormalize(vectors: Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < vectors.length; a++) {
      const v = vectors[a];
      for (let b = 0; b < a; b++) {
        const u = vectors[b];
        const projection = dot(u, v);
        for (let i = 0; i < v.length; i++) v[i] -= projection * u[i];
      }
      const norm = Math.sqrt(dot(v, v));
      if (norm > 1e-300) for (let i = 0; i < v.length; i++) v[i] /= norm;
      else v.fill(0);
    }
  }
}
