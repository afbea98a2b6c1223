import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../runtime/contracts/index.ts';
import { deadLetterHeaders } from './label-message.ts';

function kafkaRecord(key: string): StreamRecord {
  return { id: 7n, key, payload: {}, metadata: { origin: { source: 'kafka', topic: 'images', partition: 2, offset: '41' }, headers: {}, ingestedAt: 0 }, ack: { ack: () => undefined } } as unknown as StreamRecord;
}

describe('Kafka dead-letter reasons', () => {
  it('regression: a decode dead letter names the message as topic/partition@offset, not only by its key', () => {
    const headers = deadLetterHeaders(kafkaRecord('cat-7'), { stage: 'decode', code: 'TS_ERR_DECODE_UNSUPPORTED_FORMAT', reason: 'cat-7: not a recognised image', at: 1 });
    expect(headers.reason).toBe('images/2@41: cat-7: not a recognised image');
  });

  it('leaves a reason that already names the message as it is', () => {
    const headers = deadLetterHeaders(kafkaRecord('images/2@41'), { stage: 'kafka', code: 'TS_ERR_KAFKA_EMPTY_VALUE', reason: 'images/2@41: message has no value', at: 1 });
    expect(headers.reason).toBe('images/2@41: message has no value');
  });
});
