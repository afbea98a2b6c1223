import { TemiError } from '../runtime/errors.ts';

/**
 * Input checks shared by the index and the offline neighbour tables. A bad vector would poison
 * the HNSW graph (NaN distances break its ordering), so it is refused before it reaches usearch,
 * and the error names every offending key so the caller can dead-letter exactly those records.
 */

export const BAD_VECTOR = 'TS_ERR_INDEX_BAD_VECTOR';

export interface BadRow {
  readonly row: number;
  readonly reason: string;
}

/** Why a row cannot be indexed, or undefined when it can. Zero rows are refused under cosine: they have no direction. */
export function rowProblem(vectors: Float32Array, row: number, dim: number, rejectZero: boolean): string | undefined {
  const start = row * dim;
  let squares = 0;
  for (let j = 0; j < dim; j++) {
    const value = vectors[start + j];
    if (!Number.isFinite(value)) return `component ${j} is ${value}`;
    squares += value * value;
  }
  if (rejectZero && squares === 0) return 'all components are zero (no direction under the cosine metric)';
  if (!Number.isFinite(squares)) return 'its squared norm overflows Float32 range';
  return undefined;
}

export function findBadRows(vectors: Float32Array, count: number, dim: number, rejectZero: boolean): BadRow[] {
  const bad: BadRow[] = [];
  for (let row = 0; row < count; row++) {
    const reason = rowProblem(vectors, row, dim, rejectZero);
    if (reason !== undefined) bad.push({ row, reason });
  }
  return bad;
}

/** Checks one record's embedding before it is batched, so a wrong length is blamed on its own key. */
export function checkRecordVector(key: bigint, vector: Float32Array, dim: number, rejectZero = true): void {
  if (vector.length !== dim) {
    throw new TemiError(BAD_VECTOR, `vector for key ${key} has ${vector.length} components, expected ${dim}`, {
      where: `key ${key}`,
      details: { keys: [key.toString()], expected: dim, found: vector.length },
    });
  }
  const reason = rowProblem(vector, 0, dim, rejectZero);
  if (reason !== undefined) {
    throw new TemiError(BAD_VECTOR, `vector for key ${key} cannot be indexed: ${reason}`, {
      where: `key ${key}`,
      details: { keys: [key.toString()], reasons: [reason] },
    });
  }
}

/**
 * Checks a whole add batch; throws one TemiError naming every bad key (details.keys, as decimal
 * strings) so the batch can be retried without them. Nothing is added when this throws.
 */
export function checkBatch(keys: BigUint64Array, vectors: Float32Array, dim: number, rejectZero: boolean): void {
  if (!(keys instanceof BigUint64Array)) {
    throw new TemiError(BAD_VECTOR, 'keys must be a BigUint64Array of 64-bit record ids', { where: 'add(keys)' });
  }
  if (!(vectors instanceof Float32Array)) {
    throw new TemiError(BAD_VECTOR, 'vectors must be a row-major Float32Array', { where: 'add(vectors)' });
  }
  if (vectors.length !== keys.length * dim) {
    throw new TemiError(
      BAD_VECTOR,
      `${keys.length} keys need ${keys.length * dim} floats (${dim} per vector), found ${vectors.length}` +
        (keys.length === 1 ? ` for key ${keys[0]}` : ''),
      { where: 'add(vectors)', details: { keys: keys.length === 1 ? [keys[0].toString()] : [], expected: keys.length * dim, found: vectors.length } },
    );
  }
  const bad = findBadRows(vectors, keys.length, dim, rejectZero);
  if (bad.length === 0) return;
  const named = bad.map((b) => keys[b.row].toString());
  const shown = bad
    .slice(0, 5)
    .map((b) => `key ${keys[b.row]}: ${b.reason}`)
    .join('; ');
  throw new TemiError(BAD_VECTOR, `${bad.length} vector(s) cannot be indexed (${shown}${bad.length > 5 ? '; ...' : ''})`, {
    where: `key ${named[0]}`,
    details: { keys: named, reasons: bad.map((b) => b.reason) },
  });
}

/** Checks a plain matrix for the offline tables; rows have no keys there, so the row index is named. */
export function checkMatrix(embeddings: Float32Array, count: number, dim: number): void {
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(dim) || dim < 1) {
    throw new TemiError(BAD_VECTOR, `count must be a non-negative integer and dim a positive integer, got count=${count} dim=${dim}`);
  }
  if (embeddings.length < count * dim) {
    throw new TemiError(BAD_VECTOR, `embeddings hold ${embeddings.length} floats, ${count} rows of ${dim} need ${count * dim}`);
  }
  const bad = findBadRows(embeddings, count, dim, true);
  if (bad.length > 0) {
    throw new TemiError(BAD_VECTOR, `row ${bad[0].row} cannot be indexed: ${bad[0].reason}` + (bad.length > 1 ? ` (and ${bad.length - 1} more rows)` : ''), {
      where: `row ${bad[0].row}`,
      details: { rows: bad.map((b) => b.row), reasons: bad.map((b) => b.reason) },
    });
  }
}
