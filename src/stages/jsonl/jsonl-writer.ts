import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Appends lines to a file (or stdout) and makes them durable before returning, because the
 * runtime acks records as soon as a write resolves.
 */
export class JsonlWriter {
  private handle: FileHandle | undefined;

  constructor(private readonly target: string, private readonly fsync: boolean) {}

  async open(append: boolean): Promise<void> {
    if (this.target === '-') return;
    await mkdir(dirname(this.target), { recursive: true });
    this.handle = await open(this.target, append ? 'a' : 'w');
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const text = lines.join('\n') + '\n';
    if (!this.handle) {
      await writeStdout(text);
      return;
    }
    await this.handle.write(text);
    if (this.fsync) await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
