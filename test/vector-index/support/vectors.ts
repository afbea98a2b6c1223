import { SeededRandom } from '../../../src/numeric/seeded-random.ts';

/** Seeded Gaussian rows (row-major count x dim). */
export function gaussianRows(count: number, dim: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < out.length; i++) out[i] = random.normal();
  return out;
}

export function sequentialKeys(count: number, first = 0n): BigUint64Array {
  const keys = new BigUint64Array(count);
  for (let i = 0; i < count; i++) keys[i] = first + BigInt(i);
  return keys;
}

/** Mean over rows of |approx ∩ truth| / k, both given as count x k lists of ids. */
export function recallAtK<T extends number | bigint>(approx: ArrayLike<T>, truth: ArrayLike<T>, count: number, k: number): number {
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const expected = new Set<T>();
    for (let t = 0; t < k; t++) expected.add(truth[i * k + t]);
    for (let t = 0; t < k; t++) if (expected.has(approx[i * k + t])) hits++;
  }
  return hits / (count * k);
}

/** Plain JS cosine brute force, the independent reference for small sets. */
export function bruteForceCosine(rows: Float32Array, count: number, dim: number, k: number): Int32Array {
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[i * dim + j] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const out = new Int32Array(count * k);
  for (let i = 0; i < count; i++) {
    const scored: Array<[number, number]> = [];
    for (let n = 0; n < count; n++) {
      if (n === i) continue;
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += rows[i * dim + j] * rows[n * dim + j];
      scored.push([dot / (norms[i] * norms[n]), n]);
    }
    scored.sort((a, b) => b[0] - a[0]);
    for (let t = 0; t < k; t++) out[i * k + t] = scored[t][1];
  }
  return out;
}
