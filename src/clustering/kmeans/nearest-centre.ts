/**
 * The inner kernel of every k-means here: squared Euclidean distances through
 * ||x||^2 - 2 x.c + ||c||^2, so one pass over a row's values per centre does all the work.
 * Row norms are computed once per data set; centre norms once per set of centres.
 */

export type Vectors = Float32Array | Float64Array;

export function squaredRowNorms(data: Vectors, count: number, dim: number): Float64Array {
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const base = i * dim;
    let sum = 0;
    for (let d = 0; d < dim; d++) {
      const v = data[base + d];
      sum += v * v;
    }
    norms[i] = sum;
  }
  return norms;
}

/** Dot product of row `a` of `x` with row `b` of `y`, unrolled four ways. */
export function rowDot(x: Vectors, a: number, y: Vectors, b: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  const limit = dim - 3;
  for (; d < limit; d += 4) {
    s0 += x[a + d] * y[b + d];
    s1 += x[a + d + 1] * y[b + d + 1];
    s2 += x[a + d + 2] * y[b + d + 2];
    s3 += x[a + d + 3] * y[b + d + 3];
  }
  for (; d < dim; d++) s0 += x[a + d] * y[b + d];
  return s0 + s1 + s2 + s3;
}

/** Squared distance between row i of data and row j of other, floored at 0 against rounding. */
export function squaredDistance(data: Vectors, i: number, dataNorm: number, other: Vectors, j: number, otherNorm: number, dim: number): number {
  const d = dataNorm - 2 * rowDot(data, i * dim, other, j * dim, dim) + otherNorm;
  return d > 0 ? d : 0;
}

/**
 * Writes each row's nearest centre into `labels` and its squared distance into `distances`
 * (both length count); returns the summed squared distance (the inertia).
 */
export function assignToNearest(
  data: Vectors,
  count: number,
  dim: number,
  rowNorms: Float64Array,
  centres: Float64Array,
  k: number,
  labels: Int32Array,
  distances: Float64Array,
): number {
  const centreNorms = squaredRowNorms(centres, k, dim);
  let inertia = 0;
  for (let i = 0; i < count; i++) {
    const base = i * dim;
    let best = 0;
    let bestScore = Infinity;
    for (let c = 0; c < k; c++) {
      // ||x||^2 is the same for every centre: compare ||c||^2 - 2 x.c only.
      const score = centreNorms[c] - 2 * rowDot(data, base, centres, c * dim, dim);
      if (score < bestScore) {
        bestScore = score;
        best = c;
      }
    }
    const distance = Math.max(rowNorms[i] + bestScore, 0);
    labels[i] = best;
    distances[i] = distance;
    inertia += distance;
  }
  return inertia;
}
