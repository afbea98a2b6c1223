import { type StreamRecord } from '../../runtime/contracts/index.ts';

/**
 * The JSON line written for a record: identity, assignment, label and origin; never the pixel or
 * embedding arrays unless asked, since a labels file is read by people and tools, not models. A
 * revised label is a line of its own, appended: same id and key, `revision: true`, the newer
 * `modelVersion` and what the record had before (`previousCluster`, `previousModelVersion`).
 */
export function recordJson(record: StreamRecord, options: { includeEmbedding?: boolean } = {}): Record<string, unknown> {
  const { payload, metadata } = record;
  const out: Record<string, unknown> = { id: record.id.toString(), key: record.key };
  if (payload.assignment) {
    out.cluster = payload.assignment.cluster;
    out.confidence = payload.assignment.confidence;
    out.modelVersion = payload.assignment.modelVersion;
    const revision = payload.assignment.revision;
    if (revision) {
      out.revision = true;
      out.previousCluster = revision.previousCluster;
      out.previousModelVersion = revision.previousModelVersion;
    }
  }
  if (metadata.label !== undefined) out.label = metadata.label;
  if (payload.pixels) out.pixels = { width: payload.pixels.width, height: payload.pixels.height, channels: payload.pixels.channels };
  if (payload.embedding) {
    out.embeddingDim = payload.embedding.length;
    if (options.includeEmbedding) out.embedding = Array.from(payload.embedding);
  }
  out.origin = metadata.origin;
  out.ts = metadata.ingestedAt;
  return out;
}
