import type { HeadDimensions } from './head-layout.ts';

/**
 * Matrix-multiply FLOPs of one training anchor (a multiply-add counts 2), the figure benches
 * divide by time. Per anchor there are 2 rows (x and x'), and per row and head:
 *   teacher forward          2(DM + MP + PC)
 *   student forward          2(DM + MP + PC)
 *   student backward         2DM (weight grad only: the input needs none) + 4MP + 4PC
 *                            (layers 2 and 3 need both the weight and the input gradient)
 * = 6DM + 8MP + 8PC per row and head. Elementwise work (GELU, norms, softmax, AdamW, EMA) is
 * left out: it is under 1% at the default sizes. While the last layer is frozen the true figure
 * is 2PC lower per row (no last-layer weight gradient); that is ignored too.
 */
export function temiTrainingFlops(d: Omit<HeadDimensions, 'dim'> & { dim: number }): number {
  const { heads: h, dim, hidden: m, bottleneck: p, clusters: c } = d;
  return 2 * h * (6 * dim * m + 8 * m * p + 8 * p * c);
}
