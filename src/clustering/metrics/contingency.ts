/**
 * The one contingency (co-occurrence count) table every label metric is computed from. Labels are
 * compacted to 0..R-1 / 0..C-1 in ascending order of their values (as scikit-learn's np.unique
 * does), so label values themselves never matter, only which samples share them.
 */
import { TemiError } from '../../runtime/errors.ts';

export class ContingencyTable {
  /** counts[r * cols + c] = samples with row label r and column label c (dense, row-major). */
  readonly counts: Float64Array;
  readonly rowTotals: Float64Array;
  readonly columnTotals: Float64Array;

  private constructor(
    readonly rows: number,
    readonly cols: number,
    readonly total: number,
    counts: Float64Array,
  ) {
    this.counts = counts;
    this.rowTotals = new Float64Array(rows);
    this.columnTotals = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = counts[r * cols + c];
        this.rowTotals[r] += v;
        this.columnTotals[c] += v;
      }
    }
  }

  /** Rows index `rowLabels`' distinct values, columns index `columnLabels`'. */
  static fromLabels(rowLabels: ArrayLike<number>, columnLabels: ArrayLike<number>, where = 'contingency'): ContingencyTable {
    checkPairedLabels(rowLabels, columnLabels, where);
    const rowIndex = compactLabels(rowLabels);
    const columnIndex = compactLabels(columnLabels);
    const counts = new Float64Array(rowIndex.distinct * columnIndex.distinct);
    for (let i = 0; i < rowLabels.length; i++) counts[rowIndex.codes[i] * columnIndex.distinct + columnIndex.codes[i]] += 1;
    return new ContingencyTable(rowIndex.distinct, columnIndex.distinct, rowLabels.length, counts);
  }

  at(row: number, col: number): number {
    return this.counts[row * this.cols + col];
  }
}

/** Both label vectors must be non-empty, equally long and hold integers. */
export function checkPairedLabels(a: ArrayLike<number>, b: ArrayLike<number>, where: string): void {
  if (a.length !== b.length) {
    throw new TemiError('TS_ERR_METRICS_LENGTH', `the two label vectors differ in length (${a.length} vs ${b.length}); they must describe the same samples`, { where });
  }
  if (a.length === 0) {
    throw new TemiError('TS_ERR_METRICS_EMPTY', 'no samples to score; a metric over zero samples is undefined', { where });
  }
  for (const labels of [a, b]) {
    for (let i = 0; i < labels.length; i++) {
      if (!Number.isInteger(labels[i])) {
        throw new TemiError('TS_ERR_METRICS_LABEL', `label at index ${i} is ${labels[i]}; labels must be integers`, { where });
      }
    }
  }
}

/** Maps each label to its rank among the distinct labels (ascending). */
function compactLabels(labels: ArrayLike<number>): { codes: Int32Array; distinct: number } {
  const distinctValues = Array.from(new Set(Array.from(labels))).sort((x, y) => x - y);
  const rank = new Map<number, number>();
  distinctValues.forEach((value, index) => rank.set(value, index));
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) codes[i] = rank.get(labels[i]) as number;
  return { codes, distinct: distinctValues.length };
}
