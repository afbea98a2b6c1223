/**
 * How an embedding travels from a worker to the trainer on the embeddings topic, as pure functions:
 *
 * - key: the record key (the image id as it arrived), so the trainer derives the same 64-bit id;
 * - value: the vector as little-endian float32 bytes (4 x dim bytes, no framing);
 * - headers: `id` (the 64-bit record id in decimal), `dim`, and `label` when the ground truth is known.
 *
 * Little-endian is written explicitly (not the host's order) so a big-endian consumer reads the same numbers.
 */
import { TemiError } from '../../runtime/contracts/index.ts';

export interface EmbeddingMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

export function encodeEmbedding(key: string, id: bigint, embedding: Float32Array, label?: number): EmbeddingMessage {
  const value = Buffer.allocUnsafe(embedding.length * 4);
  for (let i = 0; i < embedding.length; i++) value.writeFloatLE(embedding[i], i * 4);
  const headers: Record<string, string> = { id: id.toString(), dim: String(embedding.length) };
  if (label !== undefined) headers.label = String(label);
  return { key, value, headers };
}

/**
 * The vector in `bytes`, checked against the `dim` header when there is one. Throws a TemiError
 * (TS_ERR_EMBEDDING_*) for a length that is not a whole number of floats, a length that disagrees
 * with `dim`, or a NaN/Infinity: any of these would poison the index or a training round.
 */
export function decodeEmbedding(bytes: Uint8Array, headers: Record<string, string>, where: string): Float32Array {
  if (bytes.length === 0 || bytes.length % 4 !== 0) {
    throw new TemiError('TS_ERR_EMBEDDING_LENGTH', `value is ${bytes.length} bytes; expected a non-empty multiple of 4 (little-endian float32)`, { where });
  }
  const dim = bytes.length / 4;
  const declared = headers.dim;
  if (declared !== undefined && declared !== String(dim)) {
    throw new TemiError('TS_ERR_EMBEDDING_LENGTH', `header dim says ${JSON.stringify(declared.slice(0, 20))} but the value holds ${dim} floats`, { where });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = view.getFloat32(i * 4, true);
    if (!Number.isFinite(v)) throw new TemiError('TS_ERR_EMBEDDING_NON_FINITE', `component ${i} is ${v}`, { where });
    out[i] = v;
  }
  return out;
}
