import type { DecodedPixels } from '../runtime/contracts/record.ts';
import type { ExpectedGeometry } from './pixel-checks.ts';

/** What the embed stage needs from a model, whichever runtime executes it (TensorFlow.js, ONNX Runtime). */
export interface Embedder {
  /** Fully known: every image of a batch must have exactly this shape. */
  readonly geometry: Required<ExpectedGeometry>;
  readonly dim: number;
  /**
   * Batches worth handing over before the one before is back (default 1). 2 where the model runs
   * on its own thread and takes its batches one after another: it starts the next the moment one
   * ends, not after a round trip through the caller's busy thread.
   */
  readonly batchesAtOnce?: number;
  /** One row per image, in order. Images must already match `geometry` (see checkPixels). */
  embed(images: readonly DecodedPixels[]): Promise<Float32Array[]>;
  dispose(): void | Promise<void>;
}
