import type { IndexMetric } from './index-config.ts';

/**
 * usearch's distance conventions computed exactly in Float32/64 on raw rows:
 * cos -> 1 - cosine, ip -> 1 - dot, l2sq -> squared Euclidean. Used to re-rank candidates that a
 * quantized graph returned, so callers see exact distances whatever the quantization.
 */
export function exactDistance(a: Float32Array, aRow: number, b: Float32Array, bRow: number, dim: number, metric: IndexMetric): number {
  const aStart = aRow * dim;
  const bStart = bRow * dim;
  if (metric === 'l2sq') {
    let squared = 0;
    for (let j = 0; j < dim; j++) {
      const d = a[aStart + j] - b[bStart + j];
      squared += d * d;
    }
    return squared;
  }
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < dim; j++) {
    const x = a[aStart + j];
    const y = b[bStart + j];
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (metric === 'ip') return 1 - dot;
  return aa > 0 && bb > 0 ? 1 - dot / Math.sqrt(aa * bb) : 1;
}
