import type { StagePlugin } from '../runtime/contracts/plugin.ts';
import type { ServiceFactory } from '../runtime/contracts/service-factory.ts';
import { modelRegistryFactory } from '../clustering/registry/model-registry-factory.ts';
import { deadLetterSinkPlugin } from '../stages/dead-letter/dead-letter-sink.plugin.ts';
import { jsonlSinkPlugin } from '../stages/jsonl/jsonl-sink.plugin.ts';
import { replaySourcePlugin } from '../stages/replay/replay-source.plugin.ts';
import { decodeStagePlugin } from '../stages/decode/decode-stage.plugin.ts';
import { embedStagePlugin } from '../stages/embed/embed-stage.plugin.ts';
import { pixelsEmbedStagePlugin } from '../stages/embed/pixels-embed.plugin.ts';
import { filesSourcePlugin } from '../stages/files/files-source.plugin.ts';
import { assignStagePlugin } from '../stages/assign/assign-stage.plugin.ts';
import { evaluateStagePlugin } from '../stages/evaluate/evaluate-stage.plugin.ts';
import { indexStagePlugin } from '../stages/vector-index/index-stage.plugin.ts';
import { trainStagePlugin } from '../stages/train/train-stage.plugin.ts';
import { kafkaDeadLetterSinkPlugin, kafkaLabelsSinkPlugin, kafkaSourcePlugin } from '../stages/kafka/index.ts';
import { discardSinkPlugin, embeddingDecodeStagePlugin, embeddingsPublishStagePlugin, modelFollowStagePlugin, modelPublishStagePlugin } from '../stages/scale-out/index.ts';
import { PluginRegistry } from './plugin-registry.ts';

/** The built-in plugins. They register through the same contract check as user plugins. */
export function builtinPlugins(): StagePlugin[] {
  return [
    filesSourcePlugin,
    replaySourcePlugin,
    decodeStagePlugin,
    embedStagePlugin,
    pixelsEmbedStagePlugin,
    indexStagePlugin,
    trainStagePlugin,
    assignStagePlugin,
    evaluateStagePlugin,
    jsonlSinkPlugin,
    deadLetterSinkPlugin,
    kafkaSourcePlugin,
    kafkaLabelsSinkPlugin,
    kafkaDeadLetterSinkPlugin,
    embeddingsPublishStagePlugin,
    modelFollowStagePlugin,
    embeddingDecodeStagePlugin,
    modelPublishStagePlugin,
    discardSinkPlugin,
  ] as StagePlugin[];
}

/** Services the built-in plugins share that only some pipelines need; each is created on first request. */
export function builtinServiceFactories(): ServiceFactory<unknown, any>[] {
  return [modelRegistryFactory] as ServiceFactory<unknown, any>[];
}

export function createRegistryWithBuiltins(): PluginRegistry {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins()) registry.register(plugin, 'built-in');
  for (const factory of builtinServiceFactories()) registry.provideService(factory, 'built-in');
  return registry;
}
