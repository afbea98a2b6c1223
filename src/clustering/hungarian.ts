/**
 * Exact rectangular linear assignment (the Hungarian method with row/column potentials, O(n^2 m)
 * for n = min(rows, cols), m = max(rows, cols)). Used to match predicted clusters to classes (ACC)
 * and a new model's clusters to the previous model's (stable ids).
 */
import { TemiError } from '../runtime/errors.ts';

export type AssignmentObjective = 'minimise' | 'maximise';

export interface LinearAssignment {
  /** Column matched to each row, -1 where the row is left unmatched (more rows than columns). */
  readonly rowToColumn: Int32Array;
  /** Row matched to each column, -1 where the column is left unmatched (more columns than rows). */
  readonly columnToRow: Int32Array;
  /** Sum of the matched entries of the original matrix. */
  readonly total: number;
}

/**
 * Matches min(rows, cols) rows to distinct columns so the sum of the matched entries is minimal
 * (or maximal). `values` is row-major rows x cols; every entry must be finite.
 */
export function solveLinearAssignment(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  objective: AssignmentObjective = 'minimise',
): LinearAssignment {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || values.length !== rows * cols) {
    throw new TemiError('TS_ERR_ASSIGNMENT_SHAPE', `expected a ${rows} x ${cols} matrix (${rows * cols} values), got ${values.length} values`, {
      where: 'solveLinearAssignment',
    });
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new TemiError('TS_ERR_ASSIGNMENT_VALUE', `entry ${i} (row ${Math.floor(i / cols)}, column ${i % cols}) is ${values[i]}; every cost must be finite`, {
        where: 'solveLinearAssignment',
      });
    }
  }
  const rowToColumn = new Int32Array(rows).fill(-1);
  const columnToRow = new Int32Array(cols).fill(-1);
  if (rows === 0 || cols === 0) return { rowToColumn, columnToRow, total: 0 };

  // The potential method wants no more rows than columns: solve the transpose when needed.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const sign = objective === 'maximise' ? -1 : 1;
  const cost = new Float64Array(n * m);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = sign * values[r * cols + c];
      if (transposed) cost[c * m + r] = v;
      else cost[r * m + c] = v;
    }
  }

  const matchOfColumn = assignRowsToColumns(cost, n, m);
  let total = 0;
  for (let j = 0; j < m; j++) {
    const i = matchOfColumn[j];
    if (i < 0) continue;
    const r = transposed ? j : i;
    const c = transposed ? i : j;
    rowToColumn[r] = c;
    columnToRow[c] = r;
    total += values[r * cols + c];
  }
  return { rowToColumn, columnToRow, total };
}

/**
 * Core of the method for n <= m: rows are added one at a time and an augmenting path of reduced
 * cost zero is grown with Dijkstra-like steps over the columns. Returns, for each column, its row
 * (or -1). Index 0 of the internal arrays is a virtual column, hence the 1-based bookkeeping.
 */
function assignRowsToColumns(cost: Float64Array, n: number, m: number): Int32Array {
  const rowPotential = new Float64Array(n + 1);
  const columnPotential = new Float64Array(m + 1);
  const rowOfColumn = new Int32Array(m + 1); // 1-based rows, 0 = free
  const previousColumn = new Int32Array(m + 1);
  const slack = new Float64Array(m + 1);
  const visited = new Uint8Array(m + 1);

  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    slack.fill(Infinity);
    visited.fill(0);
    do {
      visited[column] = 1;
      const activeRow = rowOfColumn[column];
      const base = (activeRow - 1) * m - 1;
      let delta = Infinity;
      let nextColumn = 0;
      for (let j = 1; j <= m; j++) {
        if (visited[j]) continue;
        const reduced = cost[base + j] - rowPotential[activeRow] - columnPotential[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previousColumn[j] = column;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          nextColumn = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (visited[j]) {
          rowPotential[rowOfColumn[j]] += delta;
          columnPotential[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      column = nextColumn;
    } while (rowOfColumn[column] !== 0);
    // Flip the augmenting path back to the virtual column.
    do {
      const before = previousColumn[column];
      rowOfColumn[column] = rowOfColumn[before];
      column = before;
    } while (column !== 0);
  }

  const out = new Int32Array(m).fill(-1);
  for (let j = 1; j <= m; j++) if (rowOfColumn[j] !== 0) out[j - 1] = rowOfColumn[j] - 1;
  return out;
}
