import type { DecodedPixels } from '../runtime/contracts/record.ts';
import type { ExpectedGeometry } from './pixel-checks.ts';

/** What the embed stage needs from a model, whichever runtime executes it (TensorFlow.js, ONNX Runtime). */
export interface Embedder {
  /** Fully known: every image of a batch must have exactly this shape. */
  readonly geometry: Required<ExpectedGeometry>;
  readonly dim: number;
  /** One row per image, in order. Images must already match `geometry` (see checkPixels). */
  embed(images: readonly DecodedPixels[]): Promise<Float32Array[]>;
  dispose(): void | Promise<void>;
}
