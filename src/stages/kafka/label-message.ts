/**
 * What the kafka sink writes for a record, as a pure function: key = the image id the record
 * arrived with, value = JSON {id, cluster, confidence, modelVersion, ts, label?}. `cluster`,
 * `confidence` and `modelVersion` are null when no model has assigned the record yet. A revised
 * label has the same key and adds {revision: true, previousCluster, previousModelVersion}, so a
 * compacted labels topic keeps each image's latest label.
 */
import { type StreamRecord } from '../../runtime/contracts/index.ts';
import { reasonNamingMessage } from './image-message.ts';

export interface LabelValue {
  readonly id: string;
  readonly cluster: number | null;
  readonly confidence: number | null;
  readonly modelVersion: number | null;
  /** When the label was written, ms since the epoch. */
  readonly ts: number;
  readonly label?: number;
  /** Present on a revised label (a newer model changed the cluster): what the previous message for this key said. */
  readonly revision?: true;
  readonly previousCluster?: number | null;
  readonly previousModelVersion?: number | null;
}

export function labelValue(record: StreamRecord, now: number): LabelValue {
  const a = record.payload.assignment;
  // Built field by field (in the documented order) rather than with conditional spreads: one per record.
  const value: { -readonly [K in keyof LabelValue]: LabelValue[K] } = {
    id: record.key,
    cluster: a?.cluster ?? null,
    confidence: a ? a.confidence : null,
    modelVersion: a?.modelVersion ?? null,
    ts: now,
  };
  if (record.metadata.label !== undefined) value.label = record.metadata.label;
  if (a?.revision) {
    value.revision = true;
    value.previousCluster = a.revision.previousCluster;
    value.previousModelVersion = a.revision.previousModelVersion;
  }
  return value;
}

/** A number as JSON.stringify writes it (null for NaN and the infinities, and for null/undefined). */
function jsonNumber(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? String(n) : 'null';
}

/**
 * The label message. Its value is exactly JSON.stringify(labelValue(record, now)) (the spec holds
 * them together), written out directly: a sink writes one per record, and this costs half of
 * building the object and stringifying it.
 */
export function labelMessage(record: StreamRecord, now: number): { key: string; value: string } {
  const a = record.payload.assignment;
  let value = a
    ? `{"id":${JSON.stringify(record.key)},"cluster":${jsonNumber(a.cluster)},"confidence":${jsonNumber(a.confidence)},"modelVersion":${jsonNumber(a.modelVersion)},"ts":${jsonNumber(now)}`
    : `{"id":${JSON.stringify(record.key)},"cluster":null,"confidence":null,"modelVersion":null,"ts":${jsonNumber(now)}`;
  if (record.metadata.label !== undefined) value += `,"label":${jsonNumber(record.metadata.label)}`;
  if (a?.revision) value += `,"revision":true,"previousCluster":${jsonNumber(a.revision.previousCluster)},"previousModelVersion":${jsonNumber(a.revision.previousModelVersion)}`;
  return { key: record.key, value: `${value}}` };
}

/** Headers of a dead-letter message: why it failed and where it came from (values are strings). */
export function deadLetterHeaders(record: StreamRecord, letter: { stage: string; code: string; reason: string; at: number }): Record<string, string> {
  const { origin } = record.metadata;
  const headers: Record<string, string> = {
    stage: letter.stage,
    code: letter.code,
    reason: reasonNamingMessage(letter.reason, origin),
    'dead-lettered-at': String(letter.at),
    'record-id': record.id.toString(),
    'origin-source': origin.source,
  };
  if (origin.topic !== undefined) headers['origin-topic'] = origin.topic;
  if (origin.partition !== undefined) headers['origin-partition'] = String(origin.partition);
  if (origin.offset !== undefined) headers['origin-offset'] = origin.offset;
  if (origin.file !== undefined) headers['origin-file'] = origin.file;
  if (record.metadata.label !== undefined) headers.label = String(record.metadata.label);
  return headers;
}
