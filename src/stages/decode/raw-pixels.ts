/**
 * Pixels that are already decoded but not yet normalised: 8-bit samples, row-major HWC. Sources
 * whose data is raw pixels to begin with (IDX files of the MNIST family) put them in
 * `payload.rawPixels`; the decode stage resizes and normalises them exactly as it does decoded
 * JPEG/PNG/WebP bytes, so a model preset is applied in one place only.
 */
import { type RawPixels } from '../../runtime/contracts/index.ts';

export type { RawPixels };

export function isRawPixels(value: unknown): value is RawPixels {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<RawPixels>;
  return (
    Number.isInteger(v.width) &&
    Number.isInteger(v.height) &&
    Number.isInteger(v.channels) &&
    v.data instanceof Uint8Array &&
    v.data.length === v.width! * v.height! * v.channels!
  );
}
