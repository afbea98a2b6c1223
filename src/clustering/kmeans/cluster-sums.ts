/**
 * Running per-cluster sums and sizes. Lloyd's M-step then costs only the rows that changed
 * cluster (late iterations move a handful) instead of a pass over all the data.
 */
import type { Vectors } from './nearest-centre.ts';

export class ClusterSums {
  readonly sums: Float64Array;
  readonly sizes: Float64Array;

  constructor(
    private readonly data: Vectors,
    readonly dim: number,
    readonly k: number,
  ) {
    this.sums = new Float64Array(k * dim);
    this.sizes = new Float64Array(k);
  }

  add(row: number, cluster: number): void {
    const source = row * this.dim;
    const target = cluster * this.dim;
    for (let d = 0; d < this.dim; d++) this.sums[target + d] += this.data[source + d];
    this.sizes[cluster] += 1;
  }

  move(row: number, from: number, to: number): void {
    const source = row * this.dim;
    const out = from * this.dim;
    const into = to * this.dim;
    for (let d = 0; d < this.dim; d++) {
      const v = this.data[source + d];
      this.sums[out + d] -= v;
      this.sums[into + d] += v;
    }
    this.sizes[from] -= 1;
    this.sizes[to] += 1;
  }

  /** Means of the clusters; an empty cluster keeps `fallback`'s row. */
  means(fallback: Float64Array): Float64Array {
    const out = new Float64Array(this.k * this.dim);
    for (let c = 0; c < this.k; c++) {
      const base = c * this.dim;
      if (this.sizes[c] === 0) {
        for (let d = 0; d < this.dim; d++) out[base + d] = fallback[base + d];
        continue;
      }
      const scale = 1 / this.sizes[c];
      for (let d = 0; d < this.dim; d++) out[base + d] = this.sums[base + d] * scale;
    }
    return out;
  }
}
