/** Operators plugin authors compose stages from; part of the public plugin kit. */
export { batchRecords, mapBatches, type BatchConsumer, type BatchOptions, type MapBatchesOptions } from './batch-records.ts';
export { orderedConcurrentMap } from './ordered-concurrent-map.ts';
export { perRecord, perBatch, type StageScope, type RecordResult } from './per-record.ts';
// Work off the pipeline's thread: a stage starts worker threads whose module answers with
// serveRequests, and calls them through WorkerClient (numbered requests, coded errors when a
// worker crashes or is closed). The decode stage's `threads` uses them.
export { WorkerClient, type WorkerClientOptions } from '../workers/worker-client.ts';
export { serveRequests, type Handled } from '../workers/serve-requests.ts';
