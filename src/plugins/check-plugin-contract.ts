import type { StagePlugin } from '../runtime/contracts/plugin.ts';
import { TemiError } from '../runtime/errors.ts';

const KINDS = ['source', 'stage', 'sink'];
const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Checks a loaded value against the plugin contract by shape, not by class identity: a third-party
 * plugin may be built against its own copy of the contracts package.
 */
export function checkPluginContract(value: unknown, origin: string): StagePlugin {
  const fail = (what: string) => {
    throw new TemiError('TS_ERR_PLUGIN_CONTRACT', what, { where: origin });
  };
  if (!value || typeof value !== 'object') fail(`expected a plugin object, found ${value === null ? 'null' : typeof value}`);
  const p = value as Partial<StagePlugin> & Record<string, unknown>;
  if (typeof p.name !== 'string' || !NAME.test(p.name)) fail(`plugin "name" must be a lower-case id (letters, digits, dashes), found ${JSON.stringify(p.name)}`);
  const label = `plugin "${p.name}"`;
  if (typeof p.kind !== 'string' || !KINDS.includes(p.kind)) fail(`${label}: "kind" must be one of "source", "stage", "sink", found ${JSON.stringify(p.kind)}`);
  if (typeof p.description !== 'string' || p.description.length === 0) fail(`${label}: "description" must be a non-empty string`);
  const schema = p.configSchema as { validate?: unknown; toJsonSchema?: unknown } | undefined;
  if (!schema || typeof schema.validate !== 'function' || typeof schema.toJsonSchema !== 'function') {
    fail(`${label}: "configSchema" must be a schema built with s.object(...) from the temi-stream contracts`);
  }
  if (!p.deps || typeof p.deps !== 'object') fail(`${label}: "deps" must be an object of service refs (use {} for none)`);
  for (const [key, ref] of Object.entries(p.deps as object)) {
    if (!ref || typeof (ref as { id?: unknown }).id !== 'symbol') fail(`${label}: deps.${key} is not a service ref (use services.* from the contracts)`);
  }
  if (typeof p.create !== 'function') fail(`${label}: "create" must be a function returning the ${p.kind} instance`);
  return p as StagePlugin;
}
