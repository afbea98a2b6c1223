import { packBlobs, unpackBlobs } from '../../src/runtime/state/snapshot-blobs.ts';
import { tempDir } from './pipeline-harness.ts';

/**
 * A state as a restart sees it: written the way the pipeline's snapshot writes it (typed arrays
 * as binary files, the rest as JSON text) and read back.
 */
export async function throughSnapshotFiles<T>(value: T): Promise<T> {
  const dir = await tempDir('snapshot-round-trip-');
  const packed = await packBlobs(value, dir);
  return (await unpackBlobs(JSON.parse(JSON.stringify(packed.json)), dir)) as T;
}
