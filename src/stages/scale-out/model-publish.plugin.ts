/**
 * Trainer side of the model hand-over: every version the registry publishes (the train stage's
 * rounds) is written to the compacted models topic under one key, with acks from all replicas.
 * Records pass through untouched; the stage only listens to the registry.
 */
import { clusteringServices, type PublishedModel, definePlugin, services, reasonOf, TemiError, s } from '../../runtime/contracts/index.ts';
import { deserializePublished, serializePublished } from '../../clustering/registry/model-registry.ts';
import { createKafkaClient, kafkaConnectionShape } from '../kafka/kafka-connection.ts';
import { DurableProducer } from '../kafka/kafka-producer.ts';
import { ensureTopic } from './ensure-topic.ts';
import { ModelFollower, topicEnds } from './model-follower.ts';
import { modelsTopicSettings, modelsTopicShape } from './models-topic.ts';

export const modelPublishStagePlugin = definePlugin({
  name: 'model-publish',
  kind: 'stage',
  description:
    'Publishes every model version of this process (place it after train) to a compacted models topic (key = modelKey, value = JSON of the version), awaiting acks from all replicas, for workers running model-follow. At start it reads the newest version already in the topic so version numbers keep increasing across trainer restarts. Records pass through untouched.',
  configSchema: s.object({
    ...kafkaConnectionShape,
    ...modelsTopicShape,
    resumeTimeoutMs: s.integer({ min: 0, default: 30_000, description: 'At start, how long to read the versions already in the topic (0: do not read them).' }),
  }),
  provides: {},
  deps: { pipeline: services.pipeline, logger: services.logger, registry: clusteringServices.modelRegistry, metrics: services.metrics },
  create({ config, deps, instanceName }) {
    const logger = deps.logger.child({ stage: instanceName });
    const connection = { baseDir: deps.pipeline.baseDir, logger, where: instanceName };
    const kafka = createKafkaClient(config, connection);
    const producer = new DurableProducer(config, connection);
    const versionGauge = deps.metrics.gauge('temi_model_version_published', 'Newest model version written to the models topic', ['stage']);
    let sending: Promise<void> = Promise.resolve();
    let failure: unknown;
    let highestInTopic = 0;
    let unlisten: (() => void) | undefined;

    const send = (published: PublishedModel) => {
      // One at a time, in version order: the compacted topic keeps the last write per key.
      sending = sending.then(async () => {
        if (published.version <= highestInTopic) return;
        try {
          const value = JSON.stringify(serializePublished(published));
          await producer.send(config.topic, [{ key: config.modelKey, value, headers: { version: String(published.version), trainer: published.trainer } }]);
          highestInTopic = published.version;
          versionGauge.set(published.version, { stage: instanceName });
          logger.info('model version written to the models topic', { topic: config.topic, modelKey: config.modelKey, version: published.version, bytes: value.length });
        } catch (error) {
          failure = error;
          logger.error('could not write a model version to the models topic', { version: published.version, reason: reasonOf(error) });
        }
      });
    };

    /** Installs the newest version already in the topic, so this trainer's next version counts on from it. */
    const resume = async () => {
      const ends = await topicEnds(kafka, config.topic);
      if (ends.size === 0) return;
      const follower = new ModelFollower(kafka, { topic: config.topic, modelKey: config.modelKey, groupPrefix: `${config.clientId}-model-publish` }, (serialized, where) => {
        highestInTopic = Math.max(highestInTopic, serialized.version);
        const current = deps.registry.current();
        if (current && serialized.version <= current.version) return;
        const published = deserializePublished(serialized, where);
        if (!deps.registry.adopt(published)) published.model.dispose();
      }, logger);
      try {
        await follower.start();
        if (!(await follower.caughtUp(ends, config.resumeTimeoutMs))) logger.warn('models topic not read to its end in time; versions may repeat', { topic: config.topic });
      } finally {
        await follower.stop();
      }
    };

    return {
      async start() {
        await ensureTopic(kafka, config.topic, modelsTopicSettings, logger, instanceName);
        await producer.connect();
        if (config.resumeTimeoutMs > 0) await resume();
        unlisten = deps.registry.onPublish(send);
        // A version restored from this trainer's own state may be newer than the topic's.
        const current = deps.registry.current();
        if (current) send(current);
      },
      operator: (input) => input,
      async drain() {
        // The train stage drains first (its final round publishes); wait for that write.
        await sending;
        if (failure) throw new TemiError('TS_ERR_MODEL_PUBLISH', `a model version did not reach the models topic: ${reasonOf(failure)}`, { where: instanceName, cause: failure });
      },
      async stop() {
        unlisten?.();
        await sending;
        await producer.disconnect();
      },
    };
  },
});
