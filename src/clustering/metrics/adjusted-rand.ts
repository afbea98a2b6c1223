/**
 * Adjusted Rand index from the pair confusion matrix, as scikit-learn computes it. The pair
 * counts grow as N^2 and their products as N^4, past 2^53 for N around 10^4, so numerator and
 * denominator are formed with exact integers before the one division.
 */
import { ContingencyTable } from './contingency.ts';

export function adjustedRandIndex(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const table = ContingencyTable.fromLabels(truth, pred, 'adjustedRandIndex');
  const n = BigInt(table.total);
  let sumSquares = 0n;
  let weightedByColumn = 0n;
  let weightedByRow = 0n;
  for (let r = 0; r < table.rows; r++) {
    for (let c = 0; c < table.cols; c++) {
      const count = table.at(r, c);
      if (count === 0) continue;
      const v = BigInt(count);
      sumSquares += v * v;
      weightedByColumn += v * BigInt(table.columnTotals[c]);
      weightedByRow += v * BigInt(table.rowTotals[r]);
    }
  }
  // Ordered pairs: same/same, same truth only, same pred only, neither.
  const bothSame = sumSquares - n;
  const predOnly = weightedByColumn - sumSquares;
  const truthOnly = weightedByRow - sumSquares;
  const neither = n * n - predOnly - truthOnly - sumSquares;
  if (predOnly === 0n && truthOnly === 0n) return 1;
  const numerator = 2n * (bothSame * neither - truthOnly * predOnly);
  const denominator = (bothSame + truthOnly) * (truthOnly + neither) + (bothSame + predOnly) * (predOnly + neither);
  // Each conversion rounds once (relative error 2^-53), far below any tolerance a score needs.
  return Number(numerator) / Number(denominator);
}
