import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { TemiError } from '../../runtime/contracts/index.ts';

export interface ImageFile {
  /** Path below the folder with "/" separators on every platform: the record key. */
  readonly relativePath: string;
  /** For messages and record origins; bytes that are not UTF-8 appear as %XX. */
  readonly absolutePath: string;
  /** What to open: the path's own bytes when its name is not valid UTF-8 (a string would not name it). */
  readonly readPath: string | Buffer;
  /** Set when the entry has an image's name but nothing readable behind it: it is dead-lettered, not read. */
  readonly problem?: TemiError;
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
 * An entry with an image's extension that is not a readable file (a dangling link, a link loop,
 * a FIFO, a device) is listed with its problem, so it becomes a counted dead letter instead of
 * vanishing; a FIFO is never opened (reading it would block the run).
 */
export async function listImageFiles(root: string, options: ListOptions): Promise<ImageFile[]> {
  await requireFolder(root);
  const found: ImageFile[] = [];
  await collect({ text: root, raw: Buffer.from(root) }, '', options, found);
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

/** A folder as text (messages, keys) and as the bytes the file system knows it by. */
interface Place {
  readonly text: string;
  readonly raw: Buffer;
}

const SEPARATOR = Buffer.from('/');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A name as text: itself when valid UTF-8, else with every non-ASCII byte as %XX (unique, and visible). */
function nameText(raw: Buffer): { text: string; exact: boolean } {
  try {
    return { text: strictUtf8.decode(raw), exact: true };
  } catch {
    let text = '';
    for (const byte of raw) text += byte < 0x80 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    return { text, exact: false };
  }
}

async function collect(dir: Place, prefix: string, options: ListOptions, out: ImageFile[]): Promise<void> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(dir.raw, { withFileTypes: true, encoding: 'buffer' });
  } catch (cause) {
    throw new TemiError('TS_ERR_FILES_UNREADABLE', `cannot list the folder (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { where: dir.text, details: { file: dir.text }, cause });
  }
  for (const entry of entries) {
    const name = nameText(entry.name);
    const raw = Buffer.concat([dir.raw, SEPARATOR, entry.name]);
    const absolutePath = join(dir.text, name.text);
    const relativePath = prefix ? `${prefix}/${name.text}` : name.text;
    const exact = name.exact && Buffer.from(dir.text).equals(dir.raw);
    const readPath = exact ? absolutePath : raw;
    if (entry.isDirectory()) {
      if (options.recursive) await collect({ text: absolutePath, raw }, relativePath, options, out);
      continue;
    }
    if (!options.extensions.includes(extname(name.text).toLowerCase())) continue;
    const problem = entry.isFile() ? undefined : await notAFile(entry, readPath, absolutePath);
    if (problem !== null) out.push({ relativePath, absolutePath, readPath, ...(problem ? { problem } : {}) });
  }
}

/**
 * Why an entry named like an image cannot be read as one, or undefined when it can (a link to a
 * file), or null when it is a link to a folder, which is not followed (as documented).
 */
async function notAFile(entry: Dirent<Buffer>, readPath: string | Buffer, absolutePath: string): Promise<TemiError | undefined | null> {
  const problem = (reason: string, cause?: unknown) => new TemiError('TS_ERR_FILES_NOT_A_FILE', `not read: ${reason}`, { where: absolutePath, details: { file: absolutePath }, cause });
  if (!entry.isSymbolicLink()) return problem(kindOf(entry));
  let target: Stats;
  try {
    target = await stat(readPath);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return problem('a symbolic link loop (ELOOP)', cause);
    if (code === 'ENOENT') return problem('a dangling symbolic link: its target does not exist (ENOENT)', cause);
    return problem(`a symbolic link whose target cannot be read (${code ?? reasonOfCause(cause)})`, cause);
  }
  if (target.isFile()) return undefined;
  if (target.isDirectory()) return null;
  return problem(`a symbolic link to ${kindOf(target)}`);
}

function kindOf(entry: Dirent<Buffer> | Stats): string {
  if (entry.isFIFO()) return 'a FIFO (named pipe), not a regular file; reading it would block';
  if (entry.isCharacterDevice()) return 'a character device, not a regular file';
  if (entry.isBlockDevice()) return 'a block device, not a regular file';
  if (entry.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

function reasonOfCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
