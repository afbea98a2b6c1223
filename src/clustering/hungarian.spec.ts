import { describe, expect, it } from 'vitest';
import { solveLinearAssignment } from './hungarian.ts';
import { SeededRandom } from '../numeric/seeded-random.ts';

/** Best total over every injective map of the smaller side into the larger one. */
function bruteForceBest(values: number[], rows: number, cols: number, maximise: boolean): number {
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const at = (i: number, j: number) => (transposed ? values[j * cols + i] : values[i * cols + j]);
  let best = maximise ? -Infinity : Infinity;
  const used = new Array<boolean>(m).fill(false);
  const walk = (i: number, sum: number) => {
    if (i === n) {
      best = maximise ? Math.max(best, sum) : Math.min(best, sum);
      return;
    }
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      walk(i + 1, sum + at(i, j));
      used[j] = false;
    }
  };
  walk(0, 0);
  return best;
}

function expectValidMatching(result: ReturnType<typeof solveLinearAssignment>, values: number[], rows: number, cols: number) {
  const matched = Math.min(rows, cols);
  let count = 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const c = result.rowToColumn[r];
    if (c < 0) continue;
    count++;
    expect(result.columnToRow[c]).toBe(r);
    total += values[r * cols + c];
  }
  expect(count).toBe(matched);
  expect(new Set(Array.from(result.rowToColumn).filter((c) => c >= 0)).size).toBe(matched);
  expect(result.total).toBeCloseTo(total, 9);
}

describe('solveLinearAssignment', () => {
  it('finds the same optimum as brute force on random square and rectangular matrices', () => {
    const random = new SeededRandom(42);
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + random.int(6);
      const cols = 1 + random.int(6);
      const integers = trial % 2 === 0;
      const values = Array.from({ length: rows * cols }, () => (integers ? random.int(10) - 3 : random.next() * 100 - 20));
      for (const maximise of [false, true]) {
        const result = solveLinearAssignment(values, rows, cols, maximise ? 'maximise' : 'minimise');
        expectValidMatching(result, values, rows, cols);
        expect(result.total).toBeCloseTo(bruteForceBest(values, rows, cols, maximise), 9);
      }
    }
  });

  it('recovers a hidden permutation from a diagonal-dominant count matrix', () => {
    const permutation = [3, 0, 4, 1, 2];
    const values = new Array<number>(25).fill(1);
    permutation.forEach((c, r) => (values[r * 5 + c] = 50));
    const result = solveLinearAssignment(values, 5, 5, 'maximise');
    expect(Array.from(result.rowToColumn)).toEqual(permutation);
    expect(result.total).toBe(250);
  });

  it('leaves the surplus rows or columns unmatched', () => {
    const tall = solveLinearAssignment([5, 1, 9, 9, 1, 5], 3, 2, 'minimise');
    expect(Array.from(tall.rowToColumn)).toEqual([1, -1, 0]);
    expect(tall.total).toBe(2);
    const wide = solveLinearAssignment([5, 9, 1, 1, 9, 5], 2, 3, 'minimise');
    expect(Array.from(wide.columnToRow)).toEqual([1, -1, 0]);
  });

  it('handles empty matrices', () => {
    const result = solveLinearAssignment([], 0, 4);
    expect(result.total).toBe(0);
    expect(Array.from(result.columnToRow)).toEqual([-1, -1, -1, -1]);
  });

  it('rejects a shape that does not match the values and non-finite costs', () => {
    expect(() => solveLinearAssignment([1, 2, 3], 2, 2)).toThrow(/TS_ERR_ASSIGNMENT_SHAPE/);
    expect(() => solveLinearAssignment([1, NaN, 3, 4], 2, 2)).toThrow(/TS_ERR_ASSIGNMENT_VALUE/);
  });
});
