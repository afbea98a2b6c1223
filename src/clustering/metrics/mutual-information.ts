/**
 * Mutual-information scores exactly as scikit-learn 1.2 defines them (natural log; the same
 * special cases, the same eps clamps), so figures can be set side by side with published ones.
 */
import { ContingencyTable } from './contingency.ts';
import { expectedMutualInformation } from './expected-mutual-information.ts';

const FLOAT64_EPS = 2.220446049250313e-16;

/** Shannon entropy (nats) of the partition given by the table's row totals or column totals. */
export function partitionEntropy(sizes: Float64Array): number {
  let distinct = 0;
  let total = 0;
  for (const size of sizes) {
    if (size > 0) distinct++;
    total += size;
  }
  if (distinct <= 1) return 0;
  const logTotal = Math.log(total);
  let h = 0;
  for (const size of sizes) if (size > 0) h -= (size / total) * (Math.log(size) - logTotal);
  return h;
}

/** I(truth; pred) in nats, from the contingency table (rows: truth, columns: pred). */
export function mutualInformationOf(table: ContingencyTable): number {
  if (table.rows === 1 || table.cols === 1) return 0;
  const n = table.total;
  const logN = Math.log(n);
  let mi = 0;
  for (let r = 0; r < table.rows; r++) {
    for (let c = 0; c < table.cols; c++) {
      const count = table.at(r, c);
      if (count === 0) continue;
      const share = count / n;
      const logOuter = -Math.log(table.rowTotals[r] * table.columnTotals[c]) + logN + logN;
      const term = share * (Math.log(count) - logN) + share * logOuter;
      if (Math.abs(term) >= FLOAT64_EPS) mi += term;
    }
  }
  return Math.max(mi, 0);
}

export function mutualInformation(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  return mutualInformationOf(ContingencyTable.fromLabels(truth, pred, 'mutualInformation'));
}

/** NMI with the arithmetic mean of the two entropies as normaliser (scikit-learn's default). */
export function normalizedMutualInfo(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const table = ContingencyTable.fromLabels(truth, pred, 'normalizedMutualInfo');
  // Neither labelling splits the data: a perfect (if trivial) match.
  if (table.rows === 1 && table.cols === 1) return 1;
  const mi = mutualInformationOf(table);
  if (mi === 0) return 0;
  const normaliser = (partitionEntropy(table.rowTotals) + partitionEntropy(table.columnTotals)) / 2;
  return mi / normaliser;
}

/** AMI: MI corrected for chance under the hypergeometric model, arithmetic normalisation. */
export function adjustedMutualInfo(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const table = ContingencyTable.fromLabels(truth, pred, 'adjustedMutualInfo');
  if (table.rows === 1 && table.cols === 1) return 1;
  const mi = mutualInformationOf(table);
  const emi = expectedMutualInformation(table);
  const normaliser = (partitionEntropy(table.rowTotals) + partitionEntropy(table.columnTotals)) / 2;
  let denominator = normaliser - emi;
  // normaliser >= emi in exact arithmetic; rounding may flip it, so keep the sign and avoid 0/0.
  denominator = denominator < 0 ? Math.min(denominator, -FLOAT64_EPS) : Math.max(denominator, FLOAT64_EPS);
  return (mi - emi) / denominator;
}
