import { Worker } from 'node:worker_threads';
import { TemiError } from '../runtime/errors.ts';
import { join } from 'node:path';
import type { AddOutcome, KeyedTrainingSet } from './index-engine.ts';
import { readSidecarConfig, SIDECAR_NAME } from './sidecar-file.ts';
import { BAD_VECTOR } from './vector-checks.ts';
import { resolveIndexConfig, type ResolvedIndexConfig, type VectorIndexConfig } from './index-config.ts';
import type { RawMatches } from './hnsw.ts';
import { WorkerClient } from '../runtime/workers/worker-client.ts';
import { buffersOf } from '../runtime/workers/worker-messages.ts';
import type { IndexRequest, WorkerBoot } from './worker-protocol.ts';

/**
 * Incremental, bounded kNN index over record embeddings (usearch HNSW), keyed by 64-bit record
 * ids. All usearch work runs in a dedicated worker thread, so a large add or a training-set
 * mining pass never blocks this thread's event loop.
 *
 * Calls are answered in the order they were made. `size` and `has` reflect every call that has
 * resolved so far (they are kept on this thread, so they answer synchronously).
 *
 * Arrays passed in are copied before they are handed to the worker (unless add is told to
 * transfer them), so the caller keeps them. The main thread never loads usearch itself.
 */

export const INDEX_WORKER_FAILED = 'TS_ERR_INDEX_WORKER_FAILED';
export const INDEX_CLOSED = 'TS_ERR_INDEX_CLOSED';

export type AddResult = AddOutcome;
export type SearchResult = RawMatches;
export type { KeyedTrainingSet, VectorIndexConfig };

export class VectorIndex {
  private readonly kept = new Set<bigint>();

  private constructor(
    readonly config: ResolvedIndexConfig,
    private readonly worker: WorkerClient,
  ) {}

  /** Starts an empty index (validating the configuration first). */
  static async create(config: VectorIndexConfig): Promise<VectorIndex> {
    return VectorIndex.start({ config: resolveIndexConfig(config) });
  }

  /** Reopens an index saved with `save(dir)`, with the configuration it was saved with. */
  static async open(dir: string): Promise<VectorIndex> {
    const index = await VectorIndex.start({ config: readSidecarConfig(join(dir, SIDECAR_NAME)), loadFrom: dir });
    await index.refreshKeys();
    return index;
  }

  private static async start(boot: WorkerBoot): Promise<VectorIndex> {
    const worker = new Worker(new URL('./index-worker.boot.mjs', import.meta.url), { workerData: boot });
    const index = new VectorIndex(boot.config, new WorkerClient(worker, { name: 'index worker', failureCode: INDEX_WORKER_FAILED, closedCode: INDEX_CLOSED }));
    try {
      await index.worker.started;
    } catch (error) {
      await index.close();
      throw error;
    }
    return index;
  }

  get size(): number {
    return this.kept.size;
  }

  has(key: bigint): boolean {
    return this.kept.has(key);
  }

  /**
   * Adds (or, for keys already kept, replaces) one vector per key; row i of `vectors` belongs to
   * keys[i]. Evicts per the retention policy. A batch with any bad vector (wrong length, NaN,
   * Inf, or all zeros under cosine) is refused whole with TS_ERR_INDEX_BAD_VECTOR; its
   * `details.keys` lists every bad key so those records can be dead-lettered and the rest retried.
   *
   * `vectors` is copied before it goes to the worker (a memcpy on this thread, ~10 ms for 30 MB);
   * with `transfer: true` an array that owns its whole ArrayBuffer is moved instead and is
   * detached (unusable) here afterwards.
   */
  async add(keys: BigUint64Array, vectors: Float32Array, options: { transfer?: boolean } = {}): Promise<AddResult> {
    if (!(keys instanceof BigUint64Array) || !(vectors instanceof Float32Array)) {
      throw new TemiError(BAD_VECTOR, 'add expects keys as a BigUint64Array and vectors as a row-major Float32Array', { where: 'add' });
    }
    // The sent arrays are transferred (detached here); batchKeys updates the key mirror afterwards.
    const batchKeys = copyOf(keys);
    const sentVectors = options.transfer && ownsWholeBuffer(vectors) ? vectors : copyOf(vectors);
    const request = { op: 'add', keys: copyOf(keys), vectors: sentVectors } as const;
    const outcome = (await this.call(request, buffersOf(request.keys, request.vectors))) as AddResult;
    const notKept = new Set(outcome.notKept);
    for (const key of batchKeys) if (!notKept.has(key)) this.kept.add(key);
    for (const key of outcome.evicted) this.kept.delete(key);
    return outcome;
  }

  /**
   * k nearest kept vectors for each of `count` query rows: keys and distances are count x k,
   * row-major, nearest first; counts[i] says how many of row i's entries are real (fewer than k
   * when the index holds fewer vectors). The graph is asked for 2k candidates, which are
   * re-ranked by exact distance on the kept Float32 rows, so distances are exact whatever the
   * quantization, in usearch's conventions: 1 - cosine ('cos'), squared L2 ('l2sq'), 1 - dot ('ip').
   */
  async search(vectors: Float32Array, count: number, k: number): Promise<SearchResult> {
    if (!(vectors instanceof Float32Array)) {
      throw new TemiError(BAD_VECTOR, 'search expects query vectors as a row-major Float32Array', { where: 'search' });
    }
    const request = { op: 'search', queries: copyOf(vectors), count, k } as const;
    return (await this.call(request, buffersOf(request.queries))) as SearchResult;
  }

  /**
   * The kept vectors as one training round's input: rows oldest-first (window) or in slot order
   * (reservoir), each with its top-k neighbours among the rows, mined from the index itself
   * (k+1 hits per row, self dropped; rows left short are searched exactly; repeats only when
   * fewer than k+1 rows exist). With maxRows, a seeded uniform subset of that many rows is
   * used, and its neighbours are mined within the subset.
   */
  async trainingSet(k: number, options: { maxRows?: number } = {}): Promise<KeyedTrainingSet> {
    return (await this.call({ op: 'trainingSet', k, maxRows: options.maxRows }, [])) as KeyedTrainingSet;
  }

  /** Writes the graph (usearch format) and a sidecar (keys, raw rows, retention state); atomic as a pair. */
  async save(dir: string): Promise<void> {
    await this.call({ op: 'save', dir }, []);
  }

  /** Replaces this index's contents with a saved index of the same dimensions/metric/quantization/capacity/policy. */
  async load(dir: string): Promise<void> {
    await this.call({ op: 'load', dir }, []);
    await this.refreshKeys();
  }

  /** Stops the worker; pending and later calls fail with TS_ERR_INDEX_CLOSED. */
  async close(): Promise<void> {
    await this.worker.close();
  }

  private async refreshKeys(): Promise<void> {
    const keys = (await this.call({ op: 'keys' }, [])) as BigUint64Array;
    this.kept.clear();
    for (const key of keys) this.kept.add(key);
  }

  private call(request: DistributiveOmit<IndexRequest, 'id'>, transfer: ArrayBuffer[]): Promise<unknown> {
    return this.worker.call(request, transfer);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function ownsWholeBuffer(array: Float32Array): boolean {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer;
}

/** A private copy with its own buffer, safe to transfer. */
function copyOf<T extends BigUint64Array | Float32Array>(array: T): T {
  return array.slice() as T;
}
