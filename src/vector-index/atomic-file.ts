import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Durable file replacement: readers see the old file or the new one, never a torn write. */

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
export function fsyncDirectory(dir: string): void {
  fsyncPath(dir);
}

/** Writes chunks to `path.tmp`, fsyncs, renames over `path`, fsyncs the directory. */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) written += writeSync(fd, chunk, written, chunk.byteLength - written);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  fsyncDirectory(dirname(path));
}

/** Moves an already written file into place durably (its bytes are fsynced first). */
export function commitFileAtomic(temporary: string, path: string): void {
  fsyncPath(temporary);
  renameSync(temporary, path);
  fsyncDirectory(dirname(path));
}
