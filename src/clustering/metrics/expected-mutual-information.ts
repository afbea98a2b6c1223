/**
 * Expected mutual information between two random labellings with the table's marginals
 * (hypergeometric model, Vinh, Epps & Bailey 2010), summed as scikit-learn sums it: for every
 * cell, over every feasible count n_ij, term1 * term2 * term3 with the factorials in log space.
 */
import { ContingencyTable } from './contingency.ts';
import { logGamma } from './log-gamma.ts';

export function expectedMutualInformation(table: ContingencyTable): number {
  const a = table.rowTotals;
  const b = table.columnTotals;
  // A labelling with one cluster has zero entropy, hence zero (expected) MI.
  if (a.length === 1 || b.length === 1) return 0;
  const n = table.total;
  let largest = 0;
  for (const v of a) largest = Math.max(largest, v);
  for (const v of b) largest = Math.max(largest, v);

  // Every argument of log-gamma below is an integer in [1, n + 1]: tabulate log(k!) once.
  const logFactorial = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) logFactorial[k] = logGamma(k + 1);
  const logN = Math.log(n);
  const logNTimesNij = new Float64Array(largest + 1);
  for (let nij = 1; nij <= largest; nij++) logNTimesNij[nij] = logN + Math.log(nij);

  let emi = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    const logA = Math.log(ai);
    for (let j = 0; j < b.length; j++) {
      const bj = b[j];
      const logB = Math.log(bj);
      const fixed = logFactorial[ai] + logFactorial[bj] + logFactorial[n - ai] + logFactorial[n - bj] - logFactorial[n];
      const start = Math.max(ai - n + bj, 1);
      const end = Math.min(ai, bj);
      for (let nij = start; nij <= end; nij++) {
        const term1 = nij / n;
        const term2 = logNTimesNij[nij] - logA - logB;
        const logTerm3 = fixed - logFactorial[nij] - logFactorial[ai - nij] - logFactorial[bj - nij] - logFactorial[n - ai - bj + nij];
        emi += term1 * term2 * Math.exp(logTerm3);
      }
    }
  }
  return emi;
}
