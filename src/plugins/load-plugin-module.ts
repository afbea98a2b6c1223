import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginModule, StagePlugin } from '../runtime/contracts/plugin.ts';
import { TemiError } from '../runtime/errors.ts';

/**
 * How long one plugin module may take to import. A module that pulls in TensorFlow or sharp
 * natively loads in a few seconds on a cold disk; ten times that is still a clear answer for a
 * module whose top-level await never settles, which otherwise leaves Node to exit 13 with no word
 * about which file it was (or, with a timer pending somewhere, to hang forever).
 */
export const PLUGIN_LOAD_TIMEOUT_MS = 30_000;

export interface LoadPluginOptions {
  readonly timeoutMs?: number;
}

/**
 * Imports a plugin module named in a pipeline: a path relative to the pipeline file, an absolute
 * path, or a package name resolved from the pipeline's folder. Only what the pipeline lists is
 * ever loaded, under a time limit and with process.exit refused while its top level runs.
 */
export async function loadPluginModule(specifier: string, baseDir: string, where: string, options: LoadPluginOptions = {}): Promise<StagePlugin[]> {
  const isPath = specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
  let url: string;
  try {
    url = isPath ? pathToFileURL(resolve(baseDir, specifier)).href : resolvePackage(specifier, baseDir);
  } catch (error) {
    throw new TemiError('TS_ERR_PLUGIN_NOT_FOUND', `cannot find plugin module "${specifier}" (${isPath ? 'paths are relative to the pipeline file' : 'is the package installed?'})`, { where, cause: error });
  }
  const file = fileURLToPath(url);
  const named = file === specifier ? `"${specifier}"` : `"${specifier}" (${file})`;
  let mod: PluginModule;
  try {
    mod = await importGuarded(url, options.timeoutMs ?? PLUGIN_LOAD_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof ExitDuringImport) {
      throw new TemiError('TS_ERR_PLUGIN_LOAD', `plugin module ${named} called process.exit(${error.exitCode ?? ''}) while loading; a plugin must not end the process`, { where });
    }
    if (error instanceof ImportTimeout) {
      throw new TemiError(
        'TS_ERR_PLUGIN_LOAD_TIMEOUT',
        `plugin module ${named} did not finish loading within ${formatSeconds(error.timeoutMs)} (a top-level await that never settles?)`,
        { where },
      );
    }
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(specifier.replace(/^\.\//, ''));
    throw new TemiError(
      missing ? 'TS_ERR_PLUGIN_NOT_FOUND' : 'TS_ERR_PLUGIN_LOAD',
      missing ? `cannot find plugin module "${specifier}" (${isPath ? 'paths are relative to the pipeline file' : 'is the package installed?'})` : `plugin module ${named} failed to load: ${error instanceof Error ? error.message : `it threw ${String(error)}`}`,
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

class ExitDuringImport extends Error {
  constructor(readonly exitCode: string | number | null | undefined) {
    super(`process.exit(${exitCode ?? ''}) called while a plugin module loaded`);
  }
}

class ImportTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`import did not settle within ${timeoutMs} ms`);
  }
}

/**
 * import() raced against a timer, with process.exit replaced by a throw while the module's top
 * level runs. The timer also keeps the event loop alive, so an import whose top-level await
 * never settles ends here with a coded error rather than in Node's silent exit 13. An exit the
 * module catches itself still fails the load: it was never meant to be called there.
 */
async function importGuarded(url: string, timeoutMs: number): Promise<PluginModule> {
  const realExit = process.exit;
  let exitCalled: ExitDuringImport | undefined;
  process.exit = ((code?: string | number | null) => {
    exitCalled ??= new ExitDuringImport(code);
    throw exitCalled;
  }) as typeof process.exit;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ImportTimeout(timeoutMs)), timeoutMs);
  });
  try {
    const mod = (await Promise.race([import(url), timedOut])) as PluginModule;
    if (exitCalled) throw exitCalled;
    return mod;
  } catch (error) {
    throw exitCalled ?? error;
  } finally {
    clearTimeout(timer);
    process.exit = realExit;
  }
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

function resolvePackage(name: string, baseDir: string): string {
  const require = createRequire(join(baseDir, 'package.json'));
  return pathToFileURL(require.resolve(name)).href;
}
