import { describe, expect, it } from 'vitest';
import { parseImageMessage, type KafkaMessageView } from './image-message.ts';

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const at = { topic: 'images', partition: 2, offset: '41' };
const auto = { format: 'auto' as const, labelHeader: 'label' };

function message(m: Partial<KafkaMessageView>): KafkaMessageView {
  return { ...at, key: null, value: null, ...m };
}

describe('parseImageMessage', () => {
  it('reads raw bytes keyed by image id, the label from its header and the produce time', () => {
    const image = parseImageMessage(message({ key: Buffer.from('cat-7'), value: png, headers: { label: Buffer.from('3'), camera: 'north' }, timestamp: '1700000000000' }), auto);
    expect(image).toMatchObject({ key: 'cat-7', label: 3, headers: { label: '3', camera: 'north' }, producedAt: 1_700_000_000_000 });
    expect(Buffer.from(image.bytes)).toEqual(png);
  });

  it('names a message without a key by topic/partition@offset', () => {
    expect(parseImageMessage(message({ value: png }), auto).key).toBe('images/2@41');
  });

  it('reads a JSON envelope (auto-detected) with its own id and label', () => {
    const value = Buffer.from(`  ${JSON.stringify({ id: 'env-1', image: png.toString('base64'), label: 5 })}`);
    const image = parseImageMessage(message({ key: Buffer.from('ignored'), value, headers: { label: '1' } }), auto);
    expect(image).toMatchObject({ key: 'env-1', label: 5 });
    expect(Buffer.from(image.bytes)).toEqual(png);
  });

  it('treats a value as raw bytes under format "raw", even when it starts with "{"', () => {
    const value = Buffer.from('{not an envelope}');
    expect(Buffer.from(parseImageMessage(message({ value }), { ...auto, format: 'raw' }).bytes).toString()).toBe('{not an envelope}');
  });

  it('rejects an empty value, a malformed envelope and a non-numeric label header, naming where', () => {
    expect(() => parseImageMessage(message({ value: Buffer.alloc(0) }), auto)).toThrow('TS_ERR_KAFKA_EMPTY_VALUE: images/2@41: message has no value');
    expect(() => parseImageMessage(message({ value: Buffer.from('{"id": 1') }), auto)).toThrow(/TS_ERR_ENVELOPE_JSON: images\/2@41/);
    expect(() => parseImageMessage(message({ value: png }), { ...auto, format: 'envelope' })).toThrow(/TS_ERR_ENVELOPE_JSON: images\/2@41/);
    expect(() => parseImageMessage(message({ value: png, headers: { label: 'shoe' } }), auto)).toThrow('TS_ERR_KAFKA_LABEL_HEADER: images/2@41: header "label" must be a non-negative integer, found "shoe"');
  });
});
