/**
 * Worker side of the model hand-over: follows the compacted models topic and installs every newer
 * version into this process's model registry, so `assign` switches to it between two batches
 * (hot swap, no restart). Records pass through untouched.
 */
import { clusteringServices, definePlugin, services, s } from '../../runtime/contracts/index.ts';
import { deserializePublished } from '../../clustering/registry/model-registry.ts';
import { createKafkaClient, kafkaConnectionShape } from '../kafka/kafka-connection.ts';
import { ensureTopic } from './ensure-topic.ts';
import { ModelFollower, topicEnds } from './model-follower.ts';
import { modelsTopicSettings, modelsTopicShape } from './models-topic.ts';

export const modelFollowStagePlugin = definePlugin({
  name: 'model-follow',
  kind: 'stage',
  description:
    'Reads the compacted models topic from the beginning (its own consumer group, nothing committed) and adopts every newer model version into this process, so a following assign stage hot-swaps models published by a trainer process. Records pass through untouched.',
  configSchema: s.object({
    ...kafkaConnectionShape,
    ...modelsTopicShape,
    catchUpTimeoutMs: s.integer({
      min: 0,
      default: 30_000,
      description: 'At start, wait this long at most for the versions already in the topic, so records are assigned with the newest model from the first batch on.',
    }),
  }),
  provides: {},
  deps: { pipeline: services.pipeline, logger: services.logger, registry: clusteringServices.modelRegistry, metrics: services.metrics },
  create({ config, deps, instanceName }) {
    const logger = deps.logger.child({ stage: instanceName });
    const kafka = createKafkaClient(config, { baseDir: deps.pipeline.baseDir, logger, where: instanceName });
    const versionGauge = deps.metrics.gauge('temi_model_version_adopted', 'Newest model version adopted from the models topic', ['stage']);
    const follower = new ModelFollower(
      kafka,
      { topic: config.topic, modelKey: config.modelKey, groupPrefix: `${config.clientId}-model-follow` },
      (serialized, where) => {
        // Old versions are skipped before they are rebuilt: a rebuilt model holds tensors.
        const current = deps.registry.current();
        if (current && serialized.version <= current.version) return;
        const published = deserializePublished(serialized, where);
        if (deps.registry.adopt(published)) versionGauge.set(published.version, { stage: instanceName });
        else published.model.dispose();
      },
      logger,
    );
    return {
      async start() {
        await ensureTopic(kafka, config.topic, modelsTopicSettings, logger, instanceName);
        const ends = await topicEnds(kafka, config.topic);
        await follower.start();
        const caughtUp = await follower.caughtUp(ends, config.catchUpTimeoutMs);
        const version = deps.registry.current()?.version ?? null;
        if (caughtUp) logger.info('following models', { topic: config.topic, modelKey: config.modelKey, version });
        else logger.warn('models topic not read to its end in time; following it in the background', { topic: config.topic, version, catchUpTimeoutMs: config.catchUpTimeoutMs });
      },
      operator: (input) => input,
      stop: () => follower.stop(),
    };
  },
});
