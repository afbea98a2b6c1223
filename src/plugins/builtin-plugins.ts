import type { StagePlugin } from '../runtime/contracts/plugin.ts';
import { deadLetterSinkPlugin } from '../stages/dead-letter/dead-letter-sink.plugin.ts';
import { jsonlSinkPlugin } from '../stages/jsonl/jsonl-sink.plugin.ts';
import { replaySourcePlugin } from '../stages/replay/replay-source.plugin.ts';
import { PluginRegistry } from './plugin-registry.ts';

/** The built-in plugins. They register through the same contract check as user plugins. */
export function builtinPlugins(): StagePlugin[] {
  return [replaySourcePlugin, jsonlSinkPlugin, deadLetterSinkPlugin] as StagePlugin[];
}

export function createRegistryWithBuiltins(): PluginRegistry {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins()) registry.register(plugin, 'built-in');
  return registry;
}
