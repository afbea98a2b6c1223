import type { DecodableFormat } from '../decode-image.ts';
import type { DecodeSpec } from '../decode-spec.ts';
import type { NormalisedPixels } from '../normalise-pixels.ts';

/** Messages between DecodePool (the pipeline's thread) and decode-worker.ts. */

export interface DecodeWorkerBoot {
  readonly spec: DecodeSpec;
  readonly maxPixels: number;
  readonly formats: readonly DecodableFormat[];
}

/** The handshake's answer: which fast path the worker has (the native addon, or PNGs in JavaScript). */
export interface DecodeWorkerReady {
  readonly fastPath: string;
}

/**
 * One encoded image (a copy; its buffer is transferred), and where to write its pixels: a
 * Float32Array on a SharedArrayBuffer of the stage's output size, which the pipeline's thread
 * lent from PixelBuffers and keeps its own view of.
 */
export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly into: Float32Array;
}

/**
 * The image's pixels, normalised as the stage would, written into the request's `into` (the
 * answer's `data` is the worker's view of it), or null when the fast path does not take it (a
 * format, size or feature it leaves to sharp, or damaged data): the stage then decodes it with
 * sharp, which also produces the dead letter.
 */
export type DecodeAnswer = NormalisedPixels | null;
