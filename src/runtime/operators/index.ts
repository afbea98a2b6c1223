/** Operators plugin authors compose stages from; part of the public plugin kit. */
export { batchRecords, type BatchOptions } from './batch-records.ts';
export { perRecord, perBatch, type StageScope, type RecordResult } from './per-record.ts';
