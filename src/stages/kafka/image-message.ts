/**
 * How an image arrives on Kafka, as a pure function of one message:
 *
 * - value: the raw encoded image (JPEG/PNG/WebP bytes), key: the image id (UTF-8), or
 * - value: a JSON envelope {id, image (base64), label?, headers?} (the replay format).
 *
 * With format "auto" a value whose first non-blank byte is "{" is an envelope; image formats never
 * start that way. The ground-truth class may ride in a header (default "label", a non-negative
 * integer); an envelope's own label wins over the header. A message without a key gets
 * "<topic>/<partition>@<offset>" as its id so every record still has a stable identity.
 */
import { TemiError } from '../../runtime/contracts/index.ts';
import { parseEnvelope } from '../replay/envelope.ts';

export type ImageMessageFormat = 'auto' | 'raw' | 'envelope';

export interface KafkaMessageView {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  readonly timestamp?: string;
}

export interface ImageMessage {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly label?: number;
  readonly headers: Record<string, string>;
  readonly producedAt?: number;
}

/** "topic/partition@offset": how errors and dead letters name a message. */
export function messageAddress(m: Pick<KafkaMessageView, 'topic' | 'partition' | 'offset'>): string {
  return `${m.topic}/${m.partition}@${m.offset}`;
}

/**
 * A dead letter's reason naming the message as topic/partition@offset, as docs/KAFKA.md promises,
 * also when a later stage (decode) named the record only by its key.
 */
export function reasonNamingMessage(reason: string, origin: { readonly topic?: string; readonly partition?: number; readonly offset?: string }): string {
  if (origin.topic === undefined || origin.partition === undefined || origin.offset === undefined) return reason;
  const address = messageAddress({ topic: origin.topic, partition: origin.partition, offset: origin.offset });
  return reason.includes(address) ? reason : `${address}: ${reason}`;
}

export function messageHeaders(m: KafkaMessageView): Record<string, string> {
  const out: Record<string, string> = {};
  const headers = m.headers;
  if (!headers) return out;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

function looksLikeJson(value: Buffer): boolean {
  for (let i = 0; i < value.length; i++) {
    const byte = value[i];
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b; // "{"
  }
  return false;
}

function headerLabel(headers: Record<string, string>, labelHeader: string, m: KafkaMessageView): number | undefined {
  const text = headers[labelHeader];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text.trim())) throw new TemiError('TS_ERR_KAFKA_LABEL_HEADER', `header "${labelHeader}" must be a non-negative integer, found ${JSON.stringify(text.slice(0, 40))}`, { where: messageAddress(m) });
  return Number(text.trim());
}

/** Throws a TemiError (code TS_ERR_KAFKA_* or TS_ERR_ENVELOPE_*, reason naming topic/partition@offset) for a message that cannot become a record. */
export function parseImageMessage(m: KafkaMessageView, options: { format: ImageMessageFormat; labelHeader: string }): ImageMessage {
  // The message's address is spelled out only when it is needed (an error, a missing key): this runs once per message.
  if (!m.value || m.value.length === 0) throw new TemiError('TS_ERR_KAFKA_EMPTY_VALUE', 'message has no value (expected image bytes or a JSON envelope)', { where: messageAddress(m) });
  const headers = messageHeaders(m);
  const producedAt = m.timestamp !== undefined && /^\d+$/.test(m.timestamp) ? Number(m.timestamp) : undefined;
  const fromHeader = headerLabel(headers, options.labelHeader, m);
  const asEnvelope = options.format === 'envelope' || (options.format === 'auto' && looksLikeJson(m.value));
  if (asEnvelope) {
    const envelope = parseEnvelope(m.value.toString('utf8'), messageAddress(m));
    return { key: envelope.id, bytes: envelope.bytes, label: envelope.label ?? fromHeader, headers: { ...headers, ...envelope.headers }, producedAt };
  }
  const key = m.key && m.key.length > 0 ? m.key.toString('utf8') : messageAddress(m);
  return { key, bytes: new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.length), label: fromHeader, headers, producedAt };
}
