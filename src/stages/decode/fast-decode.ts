/**
 * The decode stage's fast path: small simple PNGs decoded and resized in JavaScript, with sharp's
 * result to within one grey level (test/stages/decode/fast-decode.spec.ts compares them), at a few
 * percent of sharp's per-image cost. It takes an image only when every step is one it reproduces:
 *
 * - a PNG that decodeSimplePng accepts (8-bit grey, RGB or palette, not interlaced, no
 *   transparency, ICC profile or EXIF, intact) of at most FAST_PATH_MAX_PIXELS;
 * - grey to grey, RGB to RGB, or grey to RGB (libvips copies the grey band); colour to grey goes
 *   through linear light in libvips and stays with sharp;
 * - no resize, or a downsize (sharp's resize then runs libvips' reduce, see vips-reduce.ts)
 *   with one of the smooth kernels, for `fill`, for `cover`
 *   (then the centre crop sharp makes) and for `contain` when the aspect ratio leaves no border;
 *   not the exporters' resize-then-crop (`crop`).
 *
 * Anything else returns undefined and goes to sharp, unchanged.
 */
import type { ResizeKernel } from '../../embedding/preprocessing-presets.ts';
import type { DecodeSpec } from './decode-spec.ts';
import type { RawPixels } from './raw-pixels.ts';
import { decodeSimplePng } from './simple-png.ts';
import { reduceColumns, reducePlan, reduceRows, type VipsKernel } from './vips-reduce.ts';

/** Larger images go to sharp, whose work runs on libuv's threads rather than the event loop. */
export const FAST_PATH_MAX_PIXELS = 256 * 256;

type Target = Pick<DecodeSpec, 'width' | 'height' | 'channels' | 'fit'> & Partial<Pick<DecodeSpec, 'kernel' | 'crop'>>;

const SMOOTH_KERNELS: readonly ResizeKernel[] = ['linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];

/** The target pixels, or undefined when the image is not one the fast path reproduces. */
export function fastDecode(bytes: Uint8Array, target: Target, maxPixels: number): RawPixels | undefined {
  if (target.crop !== undefined) return undefined;
  const kernel = target.kernel ?? 'lanczos3';
  if (!SMOOTH_KERNELS.includes(kernel)) return undefined;
  const image = decodeSimplePng(bytes, Math.min(maxPixels, FAST_PATH_MAX_PIXELS));
  if (!image) return undefined;
  if (image.channels === 3 && target.channels === 1) return undefined;
  const sized = resized(image, target, kernel as VipsKernel);
  if (!sized) return undefined;
  return target.channels === 3 && sized.channels === 1 ? greyToRgb(sized) : sized;
}

/** sharp's resize for the fit (its ResolveShrink, vips_resize, then the centre crop of cover). */
function resized(image: RawPixels, target: Target, kernel: VipsKernel): RawPixels | undefined {
  let hshrink = image.width / target.width;
  let vshrink = image.height / target.height;
  if (target.fit === 'cover') hshrink = vshrink = Math.min(hshrink, vshrink);
  else if (target.fit === 'contain') hshrink = vshrink = Math.max(hshrink, vshrink);
  hshrink = Math.min(hshrink, image.width);
  vshrink = Math.min(vshrink, image.height);
  if (hshrink < 1 || vshrink < 1) return undefined; // an enlargement: libvips' affine, not reduce
  let { width, height, data } = image;
  const { channels } = image;
  // vips_resize gets scale = 1 / shrink and reduces by 1 / scale, which may differ in the last bit.
  const vfactor = 1 / (1 / vshrink);
  const hfactor = 1 / (1 / hshrink);
  if (vfactor !== 1) {
    const plan = reducePlan(height, vfactor);
    data = reduceRows(data, width, channels, plan, kernel);
    height = plan.to;
  }
  if (hfactor !== 1) {
    const plan = reducePlan(width, hfactor);
    data = reduceColumns(data, height, channels, plan, kernel);
    width = plan.to;
  }
  if (width === target.width && height === target.height) return { width, height, channels, data };
  if (target.fit !== 'cover' || width < target.width || height < target.height) return undefined;
  return centreCrop({ width, height, channels, data }, target.width, target.height);
}

/** sharp's CalculateCrop for gravity centre. */
function centreCrop(image: RawPixels, width: number, height: number): RawPixels {
  const left = Math.trunc((image.width - width + 1) / 2);
  const top = Math.trunc((image.height - height + 1) / 2);
  const { channels } = image;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * channels;
    out.set(image.data.subarray(from, from + width * channels), y * width * channels);
  }
  return { width, height, channels, data: out };
}

function greyToRgb(image: RawPixels): RawPixels {
  const out = new Uint8Array(image.data.length * 3);
  for (let i = 0, o = 0; i < image.data.length; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = image.data[i];
  return { width: image.width, height: image.height, channels: 3, data: out };
}
