/**
 * The unit that flows through a pipeline. A record keeps its identity (a stable 64-bit id, also
 * the index key) from source to sink; stages add to its payload; the ack handle travels with it so
 * whoever finishes the record (a sink after a durable write, the dead-letter writer, a stage that
 * drops it on purpose) tells the source, which then commits only contiguous acknowledged prefixes.
 */

/** What a record carries. Stages fill the fields they produce; plugins may add their own. */
export interface RecordPayload {
  /** Encoded image bytes (JPEG/PNG/WebP) as they arrived. */
  bytes?: Uint8Array;
  /** 8-bit pixels that came decoded (IDX rows); the decode stage normalises them like bytes. */
  rawPixels?: RawPixels;
  /** Decoded, resized, normalised pixels (row-major HWC unless `layout` says CHW). */
  pixels?: DecodedPixels;
  /** Feature vector from the embed stage. */
  embedding?: Float32Array;
  /** Cluster assignment from the assign stage. */
  assignment?: ClusterAssignment;
  [extra: string]: unknown;
}

export interface DecodedPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
  /** Order of `data`; HWC when absent. */
  readonly layout?: 'hwc' | 'chw';
}

/** Pixels that are already decoded but not normalised: 8-bit samples, row-major HWC. */
export interface RawPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** width x height x channels bytes. */
  readonly data: Uint8Array;
}

export interface ClusterAssignment {
  /** Null while no model is published yet and the policy emits unassigned records. */
  readonly cluster: number | null;
  readonly confidence: number;
  readonly modelVersion: number | null;
  /**
   * Present on a revision: a newer model changed the cluster of a record already labelled
   * downstream. Same id and key as the first label; what downstream held before is kept here.
   */
  readonly revision?: LabelRevision;
}

export interface LabelRevision {
  readonly previousCluster: number | null;
  readonly previousModelVersion: number | null;
}

export interface RecordOrigin {
  /** Plugin instance that produced the record, e.g. `files` or `kafka`. */
  readonly source: string;
  readonly file?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  /** Position in a finite source (row of an IDX file, index in a sorted folder). */
  readonly position?: number;
}

export interface RecordMetadata {
  readonly origin: RecordOrigin;
  /** Ground-truth class when the data carries one (IDX labels, a Kafka header, an envelope field). */
  label?: number;
  headers: Record<string, string>;
  /** Milliseconds since the epoch, from the runtime clock. */
  readonly ingestedAt: number;
  /** When the upstream system produced the record, if it said. */
  readonly producedAt?: number;
}

export interface AckHandle {
  /** Marks the record finished; idempotent. */
  ack(): void;
  readonly acked: boolean;
}

export interface StreamRecord {
  /** Stable 64-bit id: the index key and the label's key downstream. */
  readonly id: bigint;
  /** The id as the outside world spells it (file path, Kafka key, envelope id). */
  readonly key: string;
  payload: RecordPayload;
  readonly metadata: RecordMetadata;
  readonly ack: AckHandle;
}

/** A record that could not be processed, with why and where, as written to dead letters. */
export interface DeadLetter {
  readonly record: StreamRecord;
  /** Name of the stage instance that gave up on the record. */
  readonly stage: string;
  readonly code: string;
  readonly reason: string;
  readonly at: number;
}
