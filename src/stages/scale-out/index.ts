/** The scale-out plugins: workers publish embeddings and follow models; a trainer decodes embeddings and publishes models. */
import { type StagePlugin } from '../../runtime/contracts/index.ts';
import { discardSinkPlugin } from '../discard/discard-sink.plugin.ts';
import { embeddingDecodeStagePlugin } from './embedding-decode.plugin.ts';
import { embeddingsPublishStagePlugin } from './embeddings-publish.plugin.ts';
import { modelFollowStagePlugin } from './model-follow.plugin.ts';
import { modelPublishStagePlugin } from './model-publish.plugin.ts';

export { discardSinkPlugin, embeddingDecodeStagePlugin, embeddingsPublishStagePlugin, modelFollowStagePlugin, modelPublishStagePlugin };
export const scaleOutPlugins: StagePlugin[] = [embeddingsPublishStagePlugin, modelFollowStagePlugin, embeddingDecodeStagePlugin, modelPublishStagePlugin, discardSinkPlugin] as StagePlugin[];
