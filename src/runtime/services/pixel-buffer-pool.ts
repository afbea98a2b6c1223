import type { PixelBuffers } from '../contracts/services.ts';

/** Free buffers kept for reuse at most (~100 images of 224x224x3): a burst's worth, not a hoard. */
export const DEFAULT_MAX_FREE_BYTES = 64 * 1024 * 1024;

/**
 * The run's PixelBuffers. Each image's Float32 pixels are ~600 KB at 224x224x3; allocated afresh
 * they are external memory to V8, and at a hundred and more images a second they set off a full
 * mark-compact of the pipeline thread's heap several times a second (bench:embed --thread-cpu:
 * ~2 core-ms an image on V8's helper threads, taken from the model). Lent and given back,
 * the same few buffers go round and nothing is left for the collector.
 */
export class PixelBufferPool implements PixelBuffers {
  /** What take() lent and nobody gave back yet: only these are taken back. */
  private readonly lent = new WeakSet<Float32Array>();
  /** Free buffers by kind and length, last given first taken (still warm in the cache). */
  private readonly free = new Map<string, Float32Array[]>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes = DEFAULT_MAX_FREE_BYTES) {}

  take(length: number, options: { readonly shared?: boolean } = {}): Float32Array {
    const shared = options.shared === true;
    const reused = this.free.get(kindOf(length, shared))?.pop();
    if (reused) this.freeBytes -= reused.byteLength;
    const data = reused ?? (shared ? new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT)) : new Float32Array(length));
    this.lent.add(data);
    return data;
  }

  give(data: Float32Array): void {
    // A buffer this pool did not lend (or one given back twice) may still be read elsewhere.
    if (!this.lent.delete(data)) return;
    if (this.freeBytes + data.byteLength > this.maxFreeBytes) return;
    const kind = kindOf(data.length, data.buffer instanceof SharedArrayBuffer);
    let list = this.free.get(kind);
    if (!list) this.free.set(kind, (list = []));
    list.push(data);
    this.freeBytes += data.byteLength;
  }

  /** Bytes held in free buffers (for tests and metrics). */
  get heldBytes(): number {
    return this.freeBytes;
  }
}

function kindOf(length: number, shared: boolean): string {
  return `${shared ? 'shared' : 'own'} ${length}`;
}
