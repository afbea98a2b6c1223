import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TemiError } from '../runtime/errors.ts';
import { isGzip } from './idx-reader.ts';
import { type IdxHeader, parseIdxHeader, recordBytesOf, truncated } from './idx-format.ts';

export interface IdxRecord {
  /** Position of the record in the file, from 0. */
  readonly index: number;
  /** The record's bytes (rows x cols for images, one byte for a label); a fresh copy per record. */
  readonly bytes: Uint8Array;
}

/**
 * Streams the records of an IDX file (idx3 images: expectedDims 3; idx1 labels: 1) without holding
 * the whole file, for sources that emit records as they read. Same checks as the whole-file
 * reader, except that trailing bytes are reported only when the stream reaches them.
 */
export async function* iterateIdxRecords(file: string, expectedDims: 1 | 3): AsyncGenerator<IdxRecord, void, undefined> {
  const stream = await openDecoded(file);
  let pending: Buffer = Buffer.alloc(0);
  let consumed = 0;
  let header: IdxHeader | undefined;
  let recordBytes = 0;
  let index = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (!header) {
        if (pending.length < 4 || pending.length < 4 + 4 * (pending[3] ?? 0)) continue;
        header = parseIdxHeader(pending, file, expectedDims);
        recordBytes = recordBytesOf(header);
        pending = pending.subarray(header.dataOffset);
        consumed = header.dataOffset;
      }
      let at = 0;
      while (pending.length - at >= recordBytes && index < header.dims[0]) {
        yield { index, bytes: Uint8Array.from(pending.subarray(at, at + recordBytes)) };
        at += recordBytes;
        index += 1;
      }
      consumed += at;
      pending = pending.subarray(at);
      if (index === header.dims[0] && pending.length > 0) {
        throw new TemiError('TS_ERR_IDX_TRAILING_BYTES', `data goes on past the ${index} declared records`, {
          where: `${file}@${consumed}`,
          details: { file, offset: consumed },
        });
      }
    }
  } catch (cause) {
    if (cause instanceof TemiError) throw cause;
    throw new TemiError('TS_ERR_IDX_GZIP', `the gzip stream is damaged or ends early (${(cause as Error).message})`, {
      where: file,
      details: { file },
      cause,
    });
  } finally {
    stream.destroy();
  }
  if (!header) throw truncated(file, 0, 4, consumed + pending.length, 'the header');
  if (index < header.dims[0]) {
    throw truncated(file, header.dataOffset, header.dims[0] * recordBytes, consumed + pending.length - header.dataOffset, `${header.dims[0]} records`);
  }
}

async function openDecoded(file: string): Promise<Readable> {
  let firstBytes: Uint8Array;
  try {
    const handle = await open(file, 'r');
    try {
      const probe = Buffer.alloc(2);
      const { bytesRead } = await handle.read(probe, 0, 2, 0);
      firstBytes = probe.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new TemiError(code === 'ENOENT' ? 'TS_ERR_IDX_NOT_FOUND' : 'TS_ERR_IDX_UNREADABLE', code === 'ENOENT' ? 'no such file' : `cannot read the file (${code})`, {
      where: file,
      details: { file },
      cause,
    });
  }
  const raw = createReadStream(file);
  return isGzip(firstBytes) ? raw.pipe(createGunzip()) : raw;
}
