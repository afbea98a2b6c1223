import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StateStore } from '../contracts/services.ts';
import { TemiError } from '../errors.ts';

/** Two writes of one file within a millisecond must not share a temp file (one rename would fail). */
let tempSequence = 0;

/** Writes `data` to `path` atomically: a crash leaves either the old file or the new one, never half. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.${++tempSequence}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  // fsync the directory so the rename itself survives a power loss.
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export class FileStateStore implements StateStore {
  /** `configPath`: where the pipeline sets the directory, named when it is unusable. */
  constructor(
    readonly dir: string,
    private readonly configPath = '$.state.dir',
  ) {}

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /**
   * Creates the directory, or fails with a coded error naming the setting when the path is a
   * file (or lies below one): the first thing a run does with its state, so no plugin meets a
   * bare ENOTDIR/EEXIST half-way through its start.
   */
  async prepare(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw this.unusable(error);
    }
  }

  async readJson<T>(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path(name), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.unusable(error);
    }
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    try {
      await writeFileAtomic(this.path(name), JSON.stringify(value));
    } catch (error) {
      throw this.unusable(error);
    }
  }

  /** ENOTDIR, or EEXIST from mkdir: some part of the state path is a file, not a folder. */
  private unusable(error: unknown): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTDIR' && code !== 'EEXIST') return error;
    return new TemiError('TS_ERR_STATE_DIR_NOT_A_FOLDER', `the state directory ${this.dir} is a file, or lies below one (${code}); point state.dir at a folder`, {
      where: this.configPath,
      details: { dir: this.dir },
      cause: error,
    });
  }
}
