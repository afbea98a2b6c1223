import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { subscribeError } from './subscribe-error.ts';

const { KafkaJSProtocolError } = kafkajs;

/** kafkajs' own error for a protocol error code, built as its decoder builds it (from the error-code table entry, which its typings do not describe). */
function protocolError(code: number): Error {
  const entry = { code, type: code === 3 ? 'UNKNOWN_TOPIC_OR_PARTITION' : 'TOPIC_AUTHORIZATION_FAILED', retriable: code === 3, message: 'from the broker' };
  return new KafkaJSProtocolError(entry as unknown as Error);
}

describe('subscribeError', () => {
  it('names the missing topic and the JSON path of its entry instead of kafkajs\' partition message', () => {
    const error = subscribeError(protocolError(3), 'images', 'source.with.topics[1]');
    expect(error.message).toBe(
      'TS_ERR_KAFKA_TOPIC_MISSING: source.with.topics[1]: topic "images" does not exist on the brokers and they do not create topics on demand; create it first',
    );
  });

  it('tells an authorisation failure apart and keeps any other reason', () => {
    expect(subscribeError(protocolError(29), 'images', 'w').code).toBe('TS_ERR_KAFKA_TOPIC_DENIED');
    expect(subscribeError(new Error('socket hang up'), 'images', 'w').message).toBe('TS_ERR_KAFKA_SUBSCRIBE: w: could not subscribe to topic "images": socket hang up');
  });
});
