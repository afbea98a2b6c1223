import { TemiError } from '../../runtime/contracts/index.ts';

/** The JSON envelope format shared by Kafka messages and replay files: {id, image (base64), label?, headers?}. */
export interface ImageEnvelope {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly label?: number;
  readonly headers?: Record<string, string>;
}

/** Parses one envelope; `where` (file:line, topic/partition@offset) goes into every error. */
export function parseEnvelope(text: string, where: string): ImageEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TemiError('TS_ERR_ENVELOPE_JSON', `not a JSON envelope: ${(error as Error).message}`, { where });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TemiError('TS_ERR_ENVELOPE_SHAPE', 'expected a JSON object {id, image, label?}', { where });
  const v = value as Record<string, unknown>;
  const id = v.id ?? v.key;
  if (typeof id !== 'string' && typeof id !== 'number') throw new TemiError('TS_ERR_ENVELOPE_SHAPE', 'envelope needs "id" (string or number)', { where });
  const image = v.image ?? v.bytes;
  if (typeof image !== 'string' || image.length === 0) throw new TemiError('TS_ERR_ENVELOPE_SHAPE', 'envelope needs "image": base64-encoded JPEG/PNG/WebP bytes', { where });
  if (!/^[A-Za-z0-9+/=\s_-]+$/.test(image)) throw new TemiError('TS_ERR_ENVELOPE_SHAPE', '"image" is not base64', { where });
  if (v.label !== undefined && !(Number.isInteger(v.label) && (v.label as number) >= 0)) {
    throw new TemiError('TS_ERR_ENVELOPE_SHAPE', `"label" must be a non-negative integer, found ${JSON.stringify(v.label)}`, { where });
  }
  const headers = v.headers && typeof v.headers === 'object' ? Object.fromEntries(Object.entries(v.headers).map(([k, h]) => [k, String(h)])) : undefined;
  return { id: String(id), bytes: new Uint8Array(Buffer.from(image, 'base64')), label: v.label as number | undefined, headers };
}
