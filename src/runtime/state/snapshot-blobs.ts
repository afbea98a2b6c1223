import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TemiError } from '../errors.ts';
import { writeFileAtomic } from '../services/file-state-store.ts';

/**
 * Typed arrays in a snapshot (embeddings, optimiser moments, evaluation columns) leave the JSON:
 * each one above INLINE_LIMIT_BYTES becomes a binary file in `blobs/`, its raw little-endian
 * bytes, named by their SHA-256 so an array unchanged since the last save is not written again.
 * The JSON keeps a reference with the type, length and hash; smaller arrays stay inline as
 * base64. Restore gives back the same typed arrays, checked against their hashes.
 */

export const BLOB_DIR = 'blobs';
/** Below this an array rides inline: a file per handful of floats would cost more than it saves. */
export const INLINE_LIMIT_BYTES = 4096;

const TYPES = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypeName = keyof typeof TYPES;
type AnyTypedArray = InstanceType<(typeof TYPES)[TypeName]>;

/** How a typed array stands in the JSON. */
interface BlobReference {
  readonly $blob: { readonly type: TypeName; readonly length: number; readonly file: string; readonly sha256: string };
}
interface InlineArray {
  readonly $typed: { readonly type: TypeName; readonly length: number; readonly base64: string };
}

export interface PackOutcome {
  /** The snapshot with every typed array replaced by a reference or an inline copy. */
  readonly json: unknown;
  /** Blob files this snapshot refers to. */
  readonly files: Set<string>;
  readonly bytesWritten: number;
  readonly bytesReused: number;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Raw bytes are the format; a big-endian host would need a swap on every array.
  throw new TemiError('TS_ERR_STATE_BIG_ENDIAN', 'snapshot blobs are little-endian; this host is big-endian', { where: 'src/runtime/state/snapshot-blobs.ts' });
}

function typeNameOf(value: unknown): TypeName | undefined {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return undefined;
  const name = value.constructor.name as TypeName;
  return name in TYPES ? name : undefined;
}

function bytesOf(array: AnyTypedArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Writes the blobs a snapshot needs (those not already on disk) and returns its JSON form. */
export async function packBlobs(value: unknown, dir: string): Promise<PackOutcome> {
  const files = new Set<string>();
  let bytesWritten = 0;
  let bytesReused = 0;
  const pack = async (v: unknown): Promise<unknown> => {
    const type = typeNameOf(v);
    if (type) {
      const array = v as AnyTypedArray;
      const bytes = bytesOf(array);
      if (bytes.byteLength < INLINE_LIMIT_BYTES) return { $typed: { type, length: array.length, base64: Buffer.from(bytes).toString('base64') } } satisfies InlineArray;
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const file = `${BLOB_DIR}/${sha256}.bin`;
      if (!files.has(file)) {
        if (existsSync(join(dir, file))) bytesReused += bytes.byteLength;
        else {
          await writeFileAtomic(join(dir, file), bytes);
          bytesWritten += bytes.byteLength;
        }
        files.add(file);
      }
      return { $blob: { type, length: array.length, file, sha256 } } satisfies BlobReference;
    }
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const item of v) out.push(await pack(item));
      return out;
    }
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) if (item !== undefined) out[key] = await pack(item);
      return out;
    }
    return v;
  };
  const json = await pack(value);
  return { json, files, bytesWritten, bytesReused };
}

function blobFailure(where: string, why: string, cause?: unknown): TemiError {
  return new TemiError('TS_ERR_STATE_BLOB_INVALID', `snapshot blob ${where} ${why}`, { where, cause });
}

/** The snapshot's typed arrays back from their references, each blob checked against its length and hash. */
export async function unpackBlobs(json: unknown, dir: string): Promise<unknown> {
  const unpack = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const item of v) out.push(await unpack(item));
      return out;
    }
    if (v === null || typeof v !== 'object') return v;
    const record = v as Record<string, unknown>;
    if ('$blob' in record) return readBlob((record as unknown as BlobReference).$blob, dir);
    if ('$typed' in record) {
      const { type, length, base64 } = (record as unknown as InlineArray).$typed;
      return typedFrom(type, length, Buffer.from(base64, 'base64'), `inline ${type}`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(record)) out[key] = await unpack(item);
    return out;
  };
  return unpack(json);
}

async function readBlob(ref: BlobReference['$blob'], dir: string): Promise<AnyTypedArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, ref.file));
  } catch (cause) {
    throw blobFailure(ref.file, `cannot be read: ${(cause as Error).message}`, cause);
  }
  if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256) throw blobFailure(ref.file, 'does not match its checksum');
  return typedFrom(ref.type, ref.length, bytes, ref.file);
}

function typedFrom(type: TypeName, length: number, bytes: Uint8Array, where: string): AnyTypedArray {
  const Type = TYPES[type];
  if (!Type) throw blobFailure(where, `has an unknown type ${JSON.stringify(type)}`);
  if (bytes.byteLength !== length * Type.BYTES_PER_ELEMENT) throw blobFailure(where, `holds ${bytes.byteLength} bytes, ${length} x ${type} need ${length * Type.BYTES_PER_ELEMENT}`);
  // A copy into a fresh buffer: aligned whatever the Buffer pool's offset.
  const out = new Type(length);
  bytesOf(out).set(bytes);
  return out;
}

/** Deletes blob files no kept snapshot refers to (older saves, leftovers of a crash mid-save). */
export async function removeUnreferencedBlobs(dir: string, keep: ReadonlySet<string>): Promise<number> {
  let names: string[];
  try {
    names = await readdir(join(dir, BLOB_DIR));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = `${BLOB_DIR}/${name}`;
    if (keep.has(file)) continue;
    await rm(join(dir, file), { force: true });
    removed++;
  }
  return removed;
}

/** Blob files a packed snapshot refers to. */
export function referencedBlobs(json: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(json)) for (const item of json) referencedBlobs(item, into);
  else if (json !== null && typeof json === 'object') {
    const record = json as Record<string, unknown>;
    if ('$blob' in record) into.add((record as unknown as BlobReference).$blob.file);
    else for (const item of Object.values(record)) referencedBlobs(item, into);
  }
  return into;
}
