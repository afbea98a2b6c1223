import { type RecordFactoryInput, type RecordOrigin, type TemiError } from '../../runtime/contracts/index.ts';

/** One step of a finite source: a record to emit, or an input it could not read (dead-lettered). */
export type SourceItem =
  | { readonly kind: 'record'; readonly input: RecordFactoryInput }
  | { readonly kind: 'unreadable'; readonly key: string; readonly origin: RecordOrigin; readonly error: TemiError };

/** What the files source will emit, known before the first record (for progress and ETA). */
export interface SourcePlan {
  readonly count: number;
  /** Log-friendly summary ("1,024 images in 10 classes from /data/pets"). */
  readonly summary: string;
  items(): AsyncIterable<SourceItem>;
}

/** The rows [offset, offset + limit) of `total`, clamped to what exists. */
export function windowOf(total: number, offset: number, limit: number | undefined): { readonly start: number; readonly end: number } {
  const start = Math.min(offset, total);
  const end = limit === undefined ? total : Math.min(total, start + limit);
  return { start, end };
}
