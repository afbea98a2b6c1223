import { TemiError } from '../runtime/errors.ts';

/** IDX element type 0x08: unsigned byte, the only type the MNIST family uses. */
export const IDX_UNSIGNED_BYTE = 0x08;

export interface IdxHeader {
  /** Sizes of every dimension, outermost (the record count) first. */
  readonly dims: readonly number[];
  /** Byte offset of the first data byte (4 + 4 * dims.length). */
  readonly dataOffset: number;
}

/**
 * Parses an IDX header: two zero bytes, the element type, the dimension count, then one
 * big-endian uint32 per dimension. Errors name the file and the byte offset of the bad field.
 */
export function parseIdxHeader(bytes: Uint8Array, file: string, expectedDims: number): IdxHeader {
  if (bytes.length < 4) {
    throw truncated(file, 0, 4, bytes.length, 'the 4-byte magic number');
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new TemiError(
      'TS_ERR_IDX_BAD_MAGIC',
      `not an IDX file: the magic number must start with two zero bytes, found 0x${hex(bytes[0])} 0x${hex(bytes[1])}`,
      { where: `${file}@0`, details: { file, offset: 0 } },
    );
  }
  if (bytes[2] !== IDX_UNSIGNED_BYTE) {
    throw new TemiError(
      'TS_ERR_IDX_BAD_TYPE',
      `expected element type 0x08 (unsigned byte), found 0x${hex(bytes[2])}`,
      { where: `${file}@2`, details: { file, offset: 2 } },
    );
  }
  const dimCount = bytes[3];
  if (dimCount !== expectedDims) {
    throw new TemiError(
      'TS_ERR_IDX_BAD_DIMS',
      `expected ${expectedDims} dimension(s) (${expectedDims === 3 ? 'idx3 images' : 'idx1 labels'}), found ${dimCount}`,
      { where: `${file}@3`, details: { file, offset: 3 } },
    );
  }
  const dataOffset = 4 + 4 * dimCount;
  if (bytes.length < dataOffset) {
    throw truncated(file, 4, dataOffset - 4, bytes.length - 4, 'the dimension sizes');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < dimCount; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    if (size === 0 && d > 0) {
      throw new TemiError('TS_ERR_IDX_BAD_DIMS', `dimension ${d} has size 0`, {
        where: `${file}@${4 + 4 * d}`,
        details: { file, offset: 4 + 4 * d },
      });
    }
    dims.push(size);
  }
  return { dims, dataOffset };
}

export function recordBytesOf(header: IdxHeader): number {
  let size = 1;
  for (let d = 1; d < header.dims.length; d++) size *= header.dims[d];
  return size;
}

/** The data section must hold exactly dims[0] records: shorter is truncation, longer is a wrong file. */
export function checkDataLength(header: IdxHeader, totalBytes: number, file: string): void {
  const expected = header.dataOffset + header.dims[0] * recordBytesOf(header);
  if (totalBytes < expected) {
    throw truncated(file, header.dataOffset, expected - header.dataOffset, totalBytes - header.dataOffset, `${header.dims[0]} records`);
  }
  if (totalBytes > expected) {
    throw new TemiError(
      'TS_ERR_IDX_TRAILING_BYTES',
      `the header declares ${header.dims.join(' x ')} bytes of data ending at offset ${expected}, but the file goes on to ${totalBytes} bytes`,
      { where: `${file}@${expected}`, details: { file, offset: expected } },
    );
  }
}

export function truncated(file: string, offset: number, expectedBytes: number, foundBytes: number, what: string): TemiError {
  const endsAt = offset + Math.max(0, foundBytes);
  return new TemiError(
    'TS_ERR_IDX_TRUNCATED',
    `file ends at byte offset ${endsAt}, while ${what} need ${expectedBytes} bytes from offset ${offset} (to offset ${offset + expectedBytes})`,
    { where: `${file}@${endsAt}`, details: { file, offset: endsAt, expectedEnd: offset + expectedBytes } },
  );
}

function hex(value: number | undefined): string {
  return (value ?? 0).toString(16).padStart(2, '0');
}
