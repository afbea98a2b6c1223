import { readFile } from 'node:fs/promises';
import { TemiError } from '../../runtime/contracts/index.ts';
import { classIndexOf, classNameOf, type LabelsFrom } from './folder-labels.ts';
import { listImageFiles, normaliseExtensions, type ImageFile } from './list-image-files.ts';
import { windowOf, type SourceItem, type SourcePlan } from './source-plan.ts';

export interface FolderPlanOptions {
  readonly folder: string;
  readonly extensions: readonly string[];
  readonly recursive: boolean;
  readonly labelsFrom: LabelsFrom;
  readonly offset: number;
  readonly limit?: number;
  /** Files read ahead of the one being emitted; reading is I/O, so a few overlap well. */
  readonly readAhead: number;
  /** Instance name, for record origins. */
  readonly source: string;
}

/**
 * Lists and sorts the folder, numbers the classes (over the WHOLE folder, so offset and limit
 * never renumber them) and returns the window of files to emit.
 */
export async function planFolder(options: FolderPlanOptions): Promise<SourcePlan & { readonly classes: ReadonlyMap<string, number> }> {
  const all = await listImageFiles(options.folder, { extensions: normaliseExtensions(options.extensions), recursive: options.recursive });
  const classes = classIndexOf(all, options.labelsFrom);
  const { start, end } = windowOf(all.length, options.offset, options.limit);
  const files = all.slice(start, end);
  const classPart = options.labelsFrom === 'none' ? '' : ` in ${classes.size} classes`;
  return {
    count: files.length,
    classes,
    summary: `${files.length} of ${all.length} images${classPart} from ${options.folder}`,
    items: () => readInOrder(files, start, options, classes),
  };
}

interface ReadResult {
  readonly file: ImageFile;
  readonly position: number;
  readonly bytes?: Uint8Array;
  readonly error?: TemiError;
}

async function* readInOrder(files: readonly ImageFile[], firstPosition: number, options: FolderPlanOptions, classes: ReadonlyMap<string, number>): AsyncGenerator<SourceItem> {
  const pending: Promise<ReadResult>[] = [];
  let next = 0;
  const readNext = () => {
    const i = next++;
    pending.push(readOne(files[i], firstPosition + i));
  };
  while (next < files.length && pending.length < options.readAhead) readNext();
  while (pending.length > 0) {
    const result = await pending.shift()!;
    if (next < files.length) readNext();
    const origin = { source: options.source, file: result.file.absolutePath, position: result.position };
    if (result.error) {
      yield { kind: 'unreadable', key: result.file.relativePath, origin, error: result.error };
      continue;
    }
    const className = classNameOf(result.file.relativePath, options.labelsFrom);
    yield {
      kind: 'record',
      input: {
        key: result.file.relativePath,
        payload: { bytes: result.bytes },
        origin,
        ...(className !== undefined ? { label: classes.get(className), headers: { class: className } } : {}),
      },
    };
  }
}

/** Never rejects: a file that vanished, is not readable or is no file at all becomes a dead letter, not a failed run. */
async function readOne(file: ImageFile, position: number): Promise<ReadResult> {
  if (file.problem) return { file, position, error: file.problem };
  try {
    const buffer = await readFile(file.readPath);
    return { file, position, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    return { file, position, error: new TemiError('TS_ERR_FILES_UNREADABLE', `cannot read the file (${code})`, { where: file.absolutePath, details: { file: file.absolutePath }, cause }) };
  }
}
