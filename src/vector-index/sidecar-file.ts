import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { TemiError } from '../runtime/errors.ts';
import type { ResolvedIndexConfig } from './index-config.ts';
import type { RetainedRowsState } from './retained-rows.ts';
import { writeFileAtomic } from './atomic-file.ts';

/**
 * The sidecar beside usearch's graph file: retention state, keys and raw Float32 rows. It is
 * written last and names the graph file it belongs to, so it is the commit point of a save: a
 * crash mid-save leaves the previous sidecar pointing at the previous graph.
 *
 * Layout (little-endian): "TSIDXv01" | u32 header bytes | JSON header | pad to 8 |
 * keys (size x u64) | rows (size x dim x f32). The header carries a CRC-32 of the two arrays.
 */

export const SIDECAR_NAME = 'index.sidecar';
export const INDEX_LOAD_FAILED = 'TS_ERR_INDEX_LOAD_FAILED';
const MAGIC = 'TSIDXv01';

interface SidecarHeader {
  readonly format: 1;
  readonly graphFile: string;
  readonly config: ResolvedIndexConfig;
  readonly size: number;
  readonly head: number;
  readonly seen: number;
  readonly crc32: number;
}

export interface Sidecar {
  readonly graphFile: string;
  readonly config: ResolvedIndexConfig;
  readonly rows: RetainedRowsState;
}

function bytesOf(array: BigUint64Array | Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

export function writeSidecar(path: string, graphFile: string, config: ResolvedIndexConfig, rows: RetainedRowsState): void {
  const keyBytes = bytesOf(rows.keys.subarray(0, rows.size));
  const rowBytes = bytesOf(rows.vectors.subarray(0, rows.size * rows.dim));
  const header: SidecarHeader = {
    format: 1,
    graphFile,
    config,
    size: rows.size,
    head: rows.head,
    seen: rows.seen,
    crc32: crc32(rowBytes, crc32(keyBytes)),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  const padding = Buffer.alloc((8 - ((12 + json.length) % 8)) % 8);
  writeFileAtomic(path, [prefix, json, padding, keyBytes, rowBytes]);
}

function corrupt(path: string, why: string): TemiError {
  return new TemiError(INDEX_LOAD_FAILED, `index sidecar is unreadable: ${why}`, { where: path });
}

function parseHeader(path: string, json: string): SidecarHeader {
  let header: SidecarHeader;
  try {
    header = JSON.parse(json) as SidecarHeader;
  } catch (cause) {
    throw new TemiError(INDEX_LOAD_FAILED, 'index sidecar header is not JSON', { where: path, cause });
  }
  if (header.format !== 1) throw corrupt(path, `unknown format ${String(header.format)}`);
  return header;
}

function missing(path: string, cause: unknown): TemiError {
  return new TemiError(INDEX_LOAD_FAILED, 'no saved index here (the sidecar file is missing or unreadable)', { where: path, cause });
}

/** Only the configuration a saved index was built with: reads the header, not the rows. */
export function readSidecarConfig(path: string): ResolvedIndexConfig {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw missing(path, cause);
  }
  try {
    const prefix = Buffer.alloc(12);
    if (readSync(fd, prefix, 0, 12, 0) !== 12 || prefix.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'not a temi-stream index sidecar');
    const json = Buffer.alloc(prefix.readUInt32LE(8));
    if (readSync(fd, json, 0, json.length, 12) !== json.length) throw corrupt(path, 'truncated header');
    return parseHeader(path, json.toString('utf8')).config;
  } finally {
    closeSync(fd);
  }
}

export function readSidecar(path: string): Sidecar {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (cause) {
    throw missing(path, cause);
  }
  if (file.length < 12 || file.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'not a temi-stream index sidecar');
  const headerBytes = file.readUInt32LE(8);
  if (12 + headerBytes > file.length) throw corrupt(path, 'truncated header');
  const header = parseHeader(path, file.toString('utf8', 12, 12 + headerBytes));
  const { dimensions: dim, capacity, policy, seed } = header.config;
  const start = 12 + headerBytes + ((8 - ((12 + headerBytes) % 8)) % 8);
  const keyLength = header.size * 8;
  const rowLength = header.size * dim * 4;
  if (file.length !== start + keyLength + rowLength) throw corrupt(path, `expected ${start + keyLength + rowLength} bytes, found ${file.length}`);
  // Copies, so the arrays are 8-byte aligned whatever the Buffer pool offset.
  const keyBytes = new Uint8Array(file.subarray(start, start + keyLength));
  const rowBytes = new Uint8Array(file.subarray(start + keyLength));
  if (crc32(rowBytes, crc32(keyBytes)) !== header.crc32) throw corrupt(path, 'checksum mismatch');
  return {
    graphFile: header.graphFile,
    config: header.config,
    rows: {
      policy,
      capacity,
      dim,
      seed,
      size: header.size,
      head: header.head,
      seen: header.seen,
      keys: new BigUint64Array(keyBytes.buffer, 0, header.size),
      vectors: new Float32Array(rowBytes.buffer, 0, header.size * dim),
    },
  };
}
