/** The largest |a[i][j] - b[i][j]| over two lists of embedding rows (b's rows at least as long as a's). */
export function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  return worst;
}
