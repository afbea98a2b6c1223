import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { TemiError } from '../../runtime/contracts/index.ts';

export interface ImageFile {
  /** Path below the folder with "/" separators on every platform: the record key. */
  readonly relativePath: string;
  readonly absolutePath: string;
}

export interface ListOptions {
  /** Lower-case extensions with their dot (".jpg"). */
  readonly extensions: readonly string[];
  readonly recursive: boolean;
}

/**
 * Every image file under `root`, sorted by relative path with a plain code-unit comparison (not
 * the locale's collation) so the order, and so a run's output, is the same on every machine.
 * Symbolic links to files are followed; links to folders are not, so a link cycle cannot loop.
 */
export async function listImageFiles(root: string, options: ListOptions): Promise<ImageFile[]> {
  await requireFolder(root);
  const found: ImageFile[] = [];
  await collect(root, '', options, found);
  return found.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

/** Normalises user-written extensions ("JPG", ".png") to the form `listImageFiles` compares. */
export function normaliseExtensions(extensions: readonly string[]): string[] {
  return [...new Set(extensions.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()))];
}

async function requireFolder(root: string): Promise<void> {
  let info;
  try {
    info = await stat(root);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new TemiError(
      code === 'ENOENT' ? 'TS_ERR_FILES_FOLDER_NOT_FOUND' : 'TS_ERR_FILES_UNREADABLE',
      code === 'ENOENT' ? 'no such folder' : `cannot read the folder (${code ?? 'unknown error'})`,
      { where: root, details: { file: root }, cause },
    );
  }
  if (!info.isDirectory()) throw new TemiError('TS_ERR_FILES_NOT_A_FOLDER', 'expected a folder of images, found a file (for an IDX file use "idx": { "images": ... })', { where: root });
}

async function collect(dir: string, prefix: string, options: ListOptions, out: ImageFile[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new TemiError('TS_ERR_FILES_UNREADABLE', `cannot list the folder (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { where: dir, details: { file: dir }, cause });
  }
  for (const entry of entries) {
    const absolutePath = join(dir, entry.name);
    const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (options.recursive) await collect(absolutePath, relativePath, options, out);
      continue;
    }
    if (!options.extensions.includes(extname(entry.name).toLowerCase())) continue;
    if (entry.isFile() || (entry.isSymbolicLink() && (await isFileBehindLink(absolutePath)))) out.push({ relativePath, absolutePath });
  }
}

async function isFileBehindLink(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    // A dangling link is not an image the user can have meant; skipping it beats failing the run.
    return false;
  }
}
