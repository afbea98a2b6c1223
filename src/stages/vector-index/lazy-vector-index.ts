import { existsSync } from 'node:fs';
import { type NeighbourIndex, TemiError } from '../../runtime/contracts/index.ts';
import { VectorIndex, type VectorIndexConfig } from '../../vector-index/vector-index.ts';

/**
 * The pipeline's vector index, created when the first embedding shows its dimension (the config
 * need not repeat what the model decides) or reopened from the state directory on restart.
 */
export class LazyVectorIndex implements NeighbourIndex {
  private index: VectorIndex | undefined;
  private opening: Promise<VectorIndex> | undefined;
  private addedCount = 0;
  /** addedCount when the files in saveDir were last written (or restored from). */
  private savedAtCount: number | undefined;

  constructor(private readonly config: Omit<VectorIndexConfig, 'dimensions'>, private readonly saveDir: string) {}

  get size(): number {
    return this.index?.size ?? 0;
  }

  get added(): number {
    return this.addedCount;
  }

  get dimensions(): number | undefined {
    return this.index?.config.dimensions;
  }

  async add(keys: BigUint64Array, vectors: Float32Array, dimensions: number): Promise<void> {
    const index = await this.ensure(dimensions);
    if (dimensions !== index.config.dimensions) {
      throw new TemiError('TS_ERR_INDEX_BAD_VECTOR', `embedding has ${dimensions} dimensions, the index holds ${index.config.dimensions}`);
    }
    await index.add(keys, vectors);
    this.addedCount += keys.length;
  }

  async search(vectors: Float32Array, count: number, k: number) {
    return this.require().search(vectors, count, k);
  }

  async trainingSet(k: number, options: { maxRows?: number } = {}) {
    return this.require().trainingSet(k, options);
  }

  /**
   * Writes the graph and its sidecar, unless nothing was added since they were last written: a
   * 20,000 x 784 window is ~130 MB of files, and a periodic snapshot of an idle stream need not
   * rewrite them.
   */
  async save(): Promise<boolean> {
    if (!this.index) return false;
    if (this.savedAtCount === this.addedCount && existsSync(this.saveDir)) return true;
    const count = this.addedCount;
    await this.index.save(this.saveDir);
    this.savedAtCount = count;
    return true;
  }

  async restore(addedCount: number): Promise<void> {
    if (!existsSync(this.saveDir)) return;
    this.index = await VectorIndex.open(this.saveDir);
    this.addedCount = addedCount;
    this.savedAtCount = addedCount;
  }

  async close(): Promise<void> {
    await this.index?.close();
  }

  private require(): VectorIndex {
    if (!this.index) throw new TemiError('TS_ERR_INDEX_EMPTY', 'the index has no vectors yet');
    return this.index;
  }

  private async ensure(dimensions: number): Promise<VectorIndex> {
    if (this.index) return this.index;
    this.opening ??= VectorIndex.create({ ...this.config, dimensions });
    this.index = await this.opening;
    return this.index;
  }
}
