/**
 * Embeddings straight from pixels, for small grayscale datasets (MNIST-like) where a CNN trained
 * on photos adds little: the flattened image, optionally reduced by a fixed seeded random
 * projection or by PCA fitted on a warm-up sample. Pure TypeScript; no model, no backend.
 */
import type { DecodedPixels } from '../../runtime/contracts/record.ts';
import { TemiError } from '../../runtime/errors.ts';
import { l2NormalizeInPlace } from '../l2-normalize.ts';
import { checkPixels, type ExpectedGeometry } from '../pixel-checks.ts';
import { PcaProjection, type PcaState } from './pca.ts';
import { RandomProjection } from './random-projection.ts';

export type PixelsProjection = 'none' | 'random' | 'pca';

export interface PixelsEmbedderOptions {
  readonly projection: PixelsProjection;
  /** Output size for `random` and `pca`. */
  readonly dim?: number;
  readonly seed: number;
  readonly l2normalize: boolean;
}

/** What must survive a restart so embeddings stay in the same space as the index. */
export interface PixelsEmbedderState {
  readonly geometry?: Required<ExpectedGeometry>;
  readonly pca?: PcaState;
}

export class PixelsEmbedder {
  private geometry: Required<ExpectedGeometry> | undefined;
  private random: RandomProjection | undefined;
  private pca: PcaProjection | undefined;

  constructor(readonly options: PixelsEmbedderOptions) {
    if (options.projection !== 'none' && !(options.dim !== undefined && options.dim >= 1)) {
      throw new TemiError('TS_ERR_EMBED_PIXELS_DIM', `projection "${options.projection}" needs dim (the embedding size)`, { where: 'dim' });
    }
  }

  /** True until a PCA embedder has been fitted (or restored). */
  get needsFit(): boolean {
    return this.options.projection === 'pca' && this.pca === undefined;
  }

  /** Size of the embeddings, once the input size is known. */
  get outputDim(): number | undefined {
    if (this.options.projection !== 'none') return this.options.dim;
    return this.geometry && this.geometry.width * this.geometry.height * this.geometry.channels;
  }

  get explainedVarianceRatio(): number[] | undefined {
    return this.pca?.explainedVarianceRatio();
  }

  /** Validates a record's pixels; the first valid image fixes the geometry for the whole run. */
  accept(pixels: unknown): DecodedPixels {
    const checked = checkPixels(pixels, this.geometry ?? {});
    if (!this.geometry) this.lockGeometry({ width: checked.width, height: checked.height, channels: checked.channels });
    return checked;
  }

  /** Fits PCA on a warm-up sample (images already accepted). */
  fit(sample: readonly DecodedPixels[]): void {
    if (this.options.projection !== 'pca') return;
    const dim = this.options.dim!;
    const inputDim = sample[0]?.data.length ?? 0;
    if (sample.length < 2) throw new TemiError('TS_ERR_EMBED_PCA_SAMPLE', `PCA needs at least 2 warm-up images, got ${sample.length}`);
    if (dim > inputDim) throw new TemiError('TS_ERR_EMBED_PIXELS_DIM', `dim ${dim} exceeds the ${inputDim} values of one image`, { where: 'dim' });
    this.pca = PcaProjection.fit(sample.map((p) => p.data), { components: dim, seed: this.options.seed });
  }

  embed(pixels: DecodedPixels): Float32Array {
    let out: Float32Array;
    switch (this.options.projection) {
      case 'none':
        out = pixels.data.slice();
        break;
      case 'random':
        out = this.random!.apply(pixels.data);
        break;
      case 'pca':
        if (!this.pca) throw new TemiError('TS_ERR_EMBED_PCA_NOT_FITTED', 'PCA is applied before it was fitted on the warm-up sample');
        out = this.pca.apply(pixels.data);
        break;
    }
    return this.options.l2normalize ? l2NormalizeInPlace(out) : out;
  }

  snapshot(): PixelsEmbedderState {
    return { ...(this.geometry ? { geometry: this.geometry } : {}), ...(this.pca ? { pca: this.pca.state } : {}) };
  }

  restore(state: PixelsEmbedderState | undefined): void {
    if (!state) return;
    if (state.geometry) this.lockGeometry(state.geometry);
    if (state.pca && this.options.projection === 'pca') {
      if (state.pca.variances.length !== this.options.dim) {
        throw new TemiError('TS_ERR_EMBED_PCA_RESTORE', `the snapshot's PCA has ${state.pca.variances.length} components but dim is ${this.options.dim}; delete the state directory or keep dim`);
      }
      this.pca = new PcaProjection(state.pca);
    }
  }

  private lockGeometry(geometry: Required<ExpectedGeometry>): void {
    this.geometry = geometry;
    const inputDim = geometry.width * geometry.height * geometry.channels;
    if (this.options.projection === 'random') this.random = new RandomProjection(inputDim, this.options.dim!, this.options.seed);
  }
}
