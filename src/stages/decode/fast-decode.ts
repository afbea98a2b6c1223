/**
 * The decode stage's fast path: small images decoded and resized without libvips' per-image
 * setup, with sharp's result to within one grey level (test/stages/decode/fast-decode.spec.ts
 * compares them), at a fraction of sharp's cost. It takes an image only when every step is one it
 * reproduces:
 *
 * - a PNG that decodeSimplePng accepts (8-bit grey, RGB or palette, not interlaced, no
 *   transparency, ICC profile or EXIF, intact) of at most FAST_PATH_MAX_PIXELS; or, with the
 *   native addon (native-decode.ts), a grey, YCbCr or RGB JPEG of at most JPEG_FAST_PATH_MAX_PIXELS
 *   without an ICC profile or an EXIF orientation other than 1, that libjpeg decodes without a
 *   warning, at the scale sharp's shrink-on-load picks;
 * - grey to grey, RGB to RGB, or grey to RGB (libvips copies the grey band); colour to grey goes
 *   through linear light in libvips and stays with sharp;
 * - no resize, or a downsize (sharp's resize then runs libvips' reduce, see vips-reduce.ts)
 *   with one of the smooth kernels, for `fill`, for `cover`
 *   (then the centre crop sharp makes) and for `contain` when the aspect ratio leaves no border;
 *   not the exporters' resize-then-crop (`crop`).
 *
 * Anything else returns undefined and goes to sharp, unchanged.
 *
 * With a DecodeScratch the decoded, reduced and cropped images are written into its buffers, which
 * the next call overwrites: for a caller that normalises the result at once (the decode stage and
 * its threads), so a stream leaves no intermediate images for the garbage collector.
 */
import type { ResizeKernel } from '../../embedding/preprocessing-presets.ts';
import type { DecodeSpec } from './decode-spec.ts';
import { nativeDecode } from './native-decode.ts';
import type { RawPixels } from './raw-pixels.ts';
import { decodeSimplePng } from './simple-png.ts';
import { sniffFormat } from './encoded-structure.ts';
import { reduceImage, reducePlan, type VipsKernel } from './vips-reduce.ts';

/** Larger images go to sharp, whose work runs on libuv's threads rather than the event loop. */
export const FAST_PATH_MAX_PIXELS = 256 * 256;
/** libjpeg-turbo decodes a 512 px JPEG in ~1-2 ms, about what the event loop can spare per image. */
export const JPEG_FAST_PATH_MAX_PIXELS = 512 * 512;

/**
 * Byte buffers one thread reuses for fastDecode's intermediate images, one per step; each grows to
 * the largest image it has held.
 */
export class DecodeScratch {
  private readonly slots: Partial<Record<ScratchStep, Uint8Array>> = {};

  /** The step's buffer as it is, for a native call to write into when it is large enough. */
  offer(step: ScratchStep): Uint8Array | undefined {
    return this.slots[step];
  }

  /** Keeps the buffer a native call wrote `result` into when that is a new, larger one. */
  adopt(step: ScratchStep, result: Uint8Array): void {
    const current = this.slots[step];
    if (!current || (result.buffer !== current.buffer && result.buffer.byteLength > current.buffer.byteLength)) this.slots[step] = new Uint8Array(result.buffer as ArrayBuffer);
  }

  /** `length` bytes of the step's buffer, grown first when it is smaller. */
  bytes(step: ScratchStep, length: number): Uint8Array {
    let slot = this.slots[step];
    if (!slot || slot.length < length) this.slots[step] = slot = new Uint8Array(length);
    return slot.subarray(0, length);
  }
}

/** fastDecode's steps that leave an intermediate image: each has a buffer of its own. */
type ScratchStep = 'decoded' | 'reduced' | 'cropped' | 'widened';

type Target = Pick<DecodeSpec, 'width' | 'height' | 'channels' | 'fit'> & Partial<Pick<DecodeSpec, 'kernel' | 'crop'>>;

const SMOOTH_KERNELS: readonly ResizeKernel[] = ['linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];

/** The target pixels, or undefined when the image is not one the fast path reproduces (or its format is not among `formats`). */
export function fastDecode(bytes: Uint8Array, target: Target, maxPixels: number, formats: readonly string[] = ['png', 'jpeg'], scratch?: DecodeScratch): RawPixels | undefined {
  if (target.crop !== undefined) return undefined;
  const kernel = target.kernel ?? 'lanczos3';
  if (!SMOOTH_KERNELS.includes(kernel)) return undefined;
  let image: RawPixels | undefined;
  if (sniffFormat(bytes) === 'jpeg') image = formats.includes('jpeg') ? jpegAtLoadScale(bytes, target, maxPixels, scratch) : undefined;
  else image = formats.includes('png') ? simplePng(bytes, maxPixels, scratch) : undefined;
  if (!image) return undefined;
  if (image.channels === 3 && target.channels === 1) return undefined;
  const sized = resized(image, target, kernel as VipsKernel, scratch);
  if (!sized) return undefined;
  return target.channels === 3 && sized.channels === 1 ? greyToRgb(sized, scratch) : sized;
}

/**
 * A JPEG as sharp loads it before its resize: libjpeg's DCT scaling by the power of two sharp's
 * shrink-on-load picks (pipeline.cc: the largest of 8, 4, 2 the shrink reaches, halved when the
 * shrink's whole part equals it), in grey or RGB. Undefined for anything sharp would treat
 * otherwise (an orientation to apply, a colour profile, CMYK, colour to grey) and when libjpeg
 * reports a problem: sharp then gives the dead letter it always gave.
 */
function jpegAtLoadScale(bytes: Uint8Array, target: Target, maxPixels: number, scratch: DecodeScratch | undefined): RawPixels | undefined {
  const native = nativeDecode();
  const header = native?.jpegHeader(bytes);
  if (!native || !header || header.orientation !== 1 || header.icc) return undefined;
  const pixelLimit = Math.min(maxPixels, JPEG_FAST_PATH_MAX_PIXELS);
  if (header.width * header.height > pixelLimit) return undefined;
  if (header.colour !== 'grey' && (target.channels === 1 || (header.colour !== 'ycbcr' && header.colour !== 'rgb'))) return undefined;
  const { hshrink, vshrink } = shrinkOf(header, target);
  const shrink = Math.min(hshrink, vshrink);
  let onLoad: 1 | 2 | 4 | 8 = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  if (onLoad > 1 && Math.trunc(shrink) === onLoad) onLoad = (onLoad / 2) as 2 | 4;
  const image = native.decodeJpeg(bytes, onLoad, pixelLimit, scratch?.offer('decoded'));
  if (image) scratch?.adopt('decoded', image.data);
  return image ?? undefined;
}

function simplePng(bytes: Uint8Array, maxPixels: number, scratch: DecodeScratch | undefined): RawPixels | undefined {
  const image = decodeSimplePng(bytes, Math.min(maxPixels, FAST_PATH_MAX_PIXELS), scratch?.offer('decoded'));
  if (image) scratch?.adopt('decoded', image.data);
  return image;
}

/** sharp's ResolveShrink for the fit: how much each axis shrinks (> 1) or grows (< 1). */
function shrinkOf(image: { width: number; height: number }, target: Target): { hshrink: number; vshrink: number } {
  let hshrink = image.width / target.width;
  let vshrink = image.height / target.height;
  if (target.fit === 'cover') hshrink = vshrink = Math.min(hshrink, vshrink);
  else if (target.fit === 'contain') hshrink = vshrink = Math.max(hshrink, vshrink);
  return { hshrink: Math.min(hshrink, image.width), vshrink: Math.min(vshrink, image.height) };
}

/** sharp's resize for the fit (its ResolveShrink, vips_resize, then the centre crop of cover). */
function resized(image: RawPixels, target: Target, kernel: VipsKernel, scratch: DecodeScratch | undefined): RawPixels | undefined {
  const { hshrink, vshrink } = shrinkOf(image, target);
  if (hshrink < 1 || vshrink < 1) return undefined; // an enlargement: libvips' affine, not reduce
  const { channels } = image;
  // vips_resize gets scale = 1 / shrink and reduces by 1 / scale, which may differ in the last bit.
  const vfactor = 1 / (1 / vshrink);
  const hfactor = 1 / (1 / hshrink);
  const vertical = vfactor !== 1 ? reducePlan(image.height, vfactor) : undefined;
  const horizontal = hfactor !== 1 ? reducePlan(image.width, hfactor) : undefined;
  const data = reduceImage(image.data, image.width, image.height, channels, vertical, horizontal, kernel, scratch?.offer('reduced'));
  if (data.buffer !== image.data.buffer) scratch?.adopt('reduced', data);
  const width = horizontal?.to ?? image.width;
  const height = vertical?.to ?? image.height;
  if (width === target.width && height === target.height) return { width, height, channels, data };
  if (target.fit !== 'cover' || width < target.width || height < target.height) return undefined;
  return centreCrop({ width, height, channels, data }, target.width, target.height, scratch);
}

/** sharp's CalculateCrop for gravity centre. */
function centreCrop(image: RawPixels, width: number, height: number, scratch: DecodeScratch | undefined): RawPixels {
  const left = Math.trunc((image.width - width + 1) / 2);
  const top = Math.trunc((image.height - height + 1) / 2);
  const { channels } = image;
  const out = scratch ? scratch.bytes('cropped', width * height * channels) : new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * channels;
    out.set(image.data.subarray(from, from + width * channels), y * width * channels);
  }
  return { width, height, channels, data: out };
}

function greyToRgb(image: RawPixels, scratch: DecodeScratch | undefined): RawPixels {
  const out = scratch ? scratch.bytes('widened', image.data.length * 3) : new Uint8Array(image.data.length * 3);
  for (let i = 0, o = 0; i < image.data.length; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = image.data[i];
  return { width: image.width, height: image.height, channels: 3, data: out };
}
