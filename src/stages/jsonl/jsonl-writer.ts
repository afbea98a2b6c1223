import { constants } from 'node:fs';
import { access, mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Appends lines to a file (or stdout) and makes them durable before returning, because the
 * runtime acks records as soon as a write resolves.
 */
export class JsonlWriter {
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private append = false;

  constructor(private readonly target: string, private readonly fsync: boolean) {}

  /**
   * Checks that the file can be written, but opens it (truncating, unless appending) only at the
   * first write or at flush: a run that fails before it has output, e.g. its source cannot start,
   * leaves the previous run's file as it was.
   */
  async open(append: boolean): Promise<void> {
    if (this.target === '-') return;
    this.append = append;
    await mkdir(dirname(this.target), { recursive: true });
    await access(dirname(this.target), constants.W_OK);
    await access(this.target, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Opens the file when nothing was written: a run that finished with no line leaves it empty. */
  async flush(): Promise<void> {
    if (this.target !== '-') await this.opened();
  }

  private opened(): Promise<FileHandle> {
    this.opening ??= open(this.target, this.append ? 'a' : 'w').then((handle) => (this.handle = handle));
    return this.opening;
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const text = lines.join('\n') + '\n';
    if (this.target === '-') {
      await writeStdout(text);
      return;
    }
    const handle = await this.opened();
    await handle.write(text);
    if (this.fsync) await handle.datasync();
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
    this.opening = undefined;
  }
}

function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
