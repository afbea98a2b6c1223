/**
 * Our own native addons (build/native/*.node, compiled by `npm run setup` from sources in the
 * tree): loaded only when built from the sources present. A build script writes a digest of the
 * sources beside the addon (`<file>.sources`); after a code update without a new setup the
 * TypeScript may call a function the old build lacks, so a stale build is not loaded and its
 * callers keep their portable path.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface NativeAddonSpec {
  /** The built addon. */
  readonly file: string;
  /** The directory of its sources, and which of its files count (by name). */
  readonly sourcesDir: string;
  readonly sourceNames: RegExp;
  /** What rebuilds it, for the messages. */
  readonly setupCommand: string;
  /**
   * The environment variable that overrides it: "off" turns the addon off, any other value names
   * a file to load instead (not checked against the sources: a build under test).
   */
  readonly envVariable: string;
}

export type LoadedAddon<T> = { readonly exports: T; readonly reason?: undefined } | { readonly exports?: undefined; readonly reason: string };

/** A digest of the addon's sources, as the build script writes it beside the addon. */
export function sourcesDigest(spec: Pick<NativeAddonSpec, 'sourcesDir' | 'sourceNames'>): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(spec.sourcesDir).filter((n) => spec.sourceNames.test(n)).sort()) {
    hash.update(`${name}\n`);
    hash.update(readFileSync(path.join(spec.sourcesDir, name)));
  }
  return hash.digest('hex');
}

/** Why the addon at `file` does not match the sources here, or undefined when it does. */
export function staleAddon(spec: NativeAddonSpec, file = spec.file): string | undefined {
  const digest = existsSync(`${file}.sources`) ? readFileSync(`${file}.sources`, 'utf8').trim() : undefined;
  if (digest === sourcesDigest(spec)) return undefined;
  return `${file} was built from other sources than ${path.relative(process.cwd(), spec.sourcesDir) || spec.sourcesDir} holds now; run ${spec.setupCommand} to rebuild it`;
}

/** The addon's exports, or why it is not in use. */
export function loadNativeAddon<T>(spec: NativeAddonSpec): LoadedAddon<T> {
  const setting = process.env[spec.envVariable];
  if (setting === 'off') return { reason: `${spec.envVariable}=off` };
  const file = setting || spec.file;
  if (!existsSync(file)) return { reason: `${file} is not built (${spec.setupCommand} builds it)` };
  const stale = setting ? undefined : staleAddon(spec, file);
  if (stale) return { reason: stale };
  try {
    // dlopen, not require: a build script checks an addon under a temporary name.
    const module = { exports: {} as T };
    process.dlopen(module, file);
    return { exports: module.exports };
  } catch (error) {
    return { reason: `${file} did not load: ${(error as Error).message}` };
  }
}
