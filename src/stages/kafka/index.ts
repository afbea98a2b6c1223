/** The Kafka plugins, also loadable as a plugin module (`"plugins": [".../src/stages/kafka/index.ts"]`). */
import { type StagePlugin } from '../../runtime/contracts/index.ts';
import { kafkaDeadLetterSinkPlugin } from './kafka-dead-letter-sink.plugin.ts';
import { kafkaLabelsSinkPlugin } from './kafka-labels-sink.plugin.ts';
import { kafkaSourcePlugin } from './kafka-source.plugin.ts';

export { kafkaDeadLetterSinkPlugin, kafkaLabelsSinkPlugin, kafkaSourcePlugin };
export const kafkaPlugins: StagePlugin[] = [kafkaSourcePlugin, kafkaLabelsSinkPlugin, kafkaDeadLetterSinkPlugin] as StagePlugin[];
