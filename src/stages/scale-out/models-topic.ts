/**
 * The models topic: one compacted topic where the trainer publishes every model version under a
 * fixed key (the model name), so Kafka keeps at least the newest version per key for as long as
 * the topic lives, and a worker that starts at any time reads it from the beginning. Both sides
 * create it the same way when it is missing (never through broker auto-creation, which would
 * make a delete-by-age topic).
 */
import { s } from '../../runtime/contracts/index.ts';
import type { TopicSettings } from './ensure-topic.ts';

/** A serialized TEMI model of 784-d inputs is a few MB of base64; the broker default (1 MB) is too small. */
export const MODEL_MESSAGE_MAX_BYTES = 64 * 1024 * 1024;

export const modelsTopicSettings: TopicSettings = {
  partitions: 1,
  config: {
    'cleanup.policy': 'compact',
    'max.message.bytes': String(MODEL_MESSAGE_MAX_BYTES),
    // Compact soon after a new version lands, so the log stays small; the newest version always stays.
    'min.cleanable.dirty.ratio': '0.1',
    'segment.ms': '600000',
  },
};

export const modelsTopicShape = {
  topic: s.string({ minLength: 1, default: 'models', description: 'Compacted topic the model versions travel on (created compacted if missing).' }),
  modelKey: s.string({
    minLength: 1,
    default: 'temi-stream',
    description: 'Message key the versions are published under; trainer and workers of one deployment use the same key (several deployments may share a topic with different keys).',
  }),
};
