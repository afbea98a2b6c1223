import { concatMap, from, mergeMap, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../contracts/record.ts';
import type { DeadLetters } from '../contracts/services.ts';
import { mapBatches, type MapBatchesOptions } from './batch-records.ts';
import { errorCode, reasonOf } from '../errors.ts';

export interface StageScope {
  /** Instance name written into dead letters. */
  readonly stage: string;
  readonly deadLetters: DeadLetters;
}

/** What a per-record function returns: the record to pass on, or null to drop it (it is acked). */
export type RecordResult = StreamRecord | null;

/**
 * Runs `fn` on each record in order. A throw dead-letters that record alone (with the stage name
 * and the reason) and the stream goes on; this is how a stage "fails one record" without failing
 * the pipeline.
 */
export function perRecord(scope: StageScope, fn: (record: StreamRecord) => RecordResult | Promise<RecordResult>): OperatorFunction<StreamRecord, StreamRecord> {
  return (source) => source.pipe(concatMap((record) => from(runGuarded(scope, record, fn)).pipe(dropNull())));
}

async function runGuarded(scope: StageScope, record: StreamRecord, fn: (record: StreamRecord) => RecordResult | Promise<RecordResult>): Promise<RecordResult> {
  try {
    const out = await fn(record);
    if (out === null) record.ack.ack();
    return out;
  } catch (error) {
    await scope.deadLetters.send({ record, stage: scope.stage, code: errorCode(error), reason: reasonOf(error) });
    return null;
  }
}

function dropNull(): OperatorFunction<RecordResult, StreamRecord> {
  return mergeMap((r) => (r === null ? [] : [r]));
}

/**
 * Runs `fn` on batches (size, max wait and how many at once from `options`) and re-emits the
 * records in order. When a whole batch throws, each record is retried on its own so one bad input
 * is dead-lettered and its neighbours still go through.
 */
export function perBatch(
  scope: StageScope,
  options: MapBatchesOptions,
  fn: (records: StreamRecord[]) => RecordResult[] | Promise<RecordResult[]>,
): OperatorFunction<StreamRecord, StreamRecord> {
  return (source) =>
    source.pipe(
      mapBatches(options, (batch: StreamRecord[]) => runBatch(scope, batch, fn)),
      mergeMap((records) => records),
    );
}

async function runBatch(scope: StageScope, batch: StreamRecord[], fn: (records: StreamRecord[]) => RecordResult[] | Promise<RecordResult[]>): Promise<StreamRecord[]> {
  let results: RecordResult[];
  try {
    results = await fn(batch);
  } catch {
    results = [];
    for (const record of batch) {
      results.push(await runGuarded(scope, record, async (r) => (await fn([r]))[0] ?? null));
    }
    return results.filter((r): r is StreamRecord => r !== null);
  }
  const out: StreamRecord[] = [];
  results.forEach((r, i) => {
    if (r === null) batch[i].ack.ack();
    else out.push(r);
  });
  return out;
}
