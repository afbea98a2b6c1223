import { reasonOf, TemiError } from '../../runtime/contracts/index.ts';

/**
 * A failed subscribe as a coded error naming the topic. kafkajs reports a topic the broker does
 * not have (auto-creation off) as "This server does not host this topic-partition", which says
 * neither which topic nor what to do.
 */
export function subscribeError(error: unknown, topic: string, where: string): TemiError {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new TemiError('TS_ERR_KAFKA_TOPIC_MISSING', `topic "${topic}" does not exist on the brokers and they do not create topics on demand; create it first`, {
      where,
      cause: error,
    });
  }
  if (type === 'TOPIC_AUTHORIZATION_FAILED') {
    return new TemiError('TS_ERR_KAFKA_TOPIC_DENIED', `not authorised to read topic "${topic}"`, { where, cause: error });
  }
  return new TemiError('TS_ERR_KAFKA_SUBSCRIBE', `could not subscribe to topic "${topic}": ${reasonOf(error)}`, { where, cause: error });
}
