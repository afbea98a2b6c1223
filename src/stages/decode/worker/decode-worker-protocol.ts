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

/** One encoded image (a copy; its buffer is transferred). */
export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/**
 * The image's pixels, normalised as the stage would (their buffer is transferred), or null when the
 * fast path does not take it (a format, size or feature it leaves to sharp, or damaged data): the
 * stage then decodes it with sharp, which also produces the dead letter.
 */
export type DecodeAnswer = NormalisedPixels | null;
