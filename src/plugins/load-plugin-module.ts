import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginModule, StagePlugin } from '../runtime/contracts/plugin.ts';
import { TemiError } from '../runtime/errors.ts';

/**
 * Imports a plugin module named in a pipeline: a path relative to the pipeline file, an absolute
 * path, or a package name resolved from the pipeline's folder. Only what the pipeline lists is
 * ever loaded.
 */
export async function loadPluginModule(specifier: string, baseDir: string, where: string): Promise<StagePlugin[]> {
  const isPath = specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
  let url: string;
  try {
    url = isPath ? pathToFileURL(resolve(baseDir, specifier)).href : resolvePackage(specifier, baseDir);
  } catch (error) {
    throw new TemiError('TS_ERR_PLUGIN_NOT_FOUND', `cannot find plugin module "${specifier}" (${isPath ? 'paths are relative to the pipeline file' : 'is the package installed?'})`, { where, cause: error });
  }
  let mod: PluginModule;
  try {
    mod = (await import(url)) as PluginModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(specifier.replace(/^\.\//, ''));
    throw new TemiError(
      missing ? 'TS_ERR_PLUGIN_NOT_FOUND' : 'TS_ERR_PLUGIN_LOAD',
      missing ? `cannot find plugin module "${specifier}" (${isPath ? 'paths are relative to the pipeline file' : 'is the package installed?'})` : `plugin module "${specifier}" failed to load: ${(error as Error).message}`,
      { where, cause: error },
    );
  }
  const exported = mod.plugins ?? mod.default;
  const list = Array.isArray(exported) ? exported : exported ? [exported] : [];
  if (list.length === 0) {
    throw new TemiError('TS_ERR_PLUGIN_CONTRACT', `plugin module "${specifier}" exports no plugin (export default definePlugin({...}) or export const plugins = [...])`, { where });
  }
  return list as StagePlugin[];
}

function resolvePackage(name: string, baseDir: string): string {
  const require = createRequire(join(baseDir, 'package.json'));
  return pathToFileURL(require.resolve(name)).href;
}
