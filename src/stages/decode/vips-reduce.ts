/**
 * libvips' reduce (vips_reducev then vips_reduceh, as vips_resize runs them for a downsize), for
 * 8-bit images, reproduced operation for operation so the decode stage's fast path gives sharp's
 * pixels: the same kernels, 65 masks per axis at 1/64-pixel steps of the source position
 * (coefficients scaled by 4096 and truncated to integers), the same sample positions and edge
 * copying, integer sums rounded half up and clipped to 0..255, rows first and then columns,
 * rounded to 8 bits in between. libvips 8.17's resample/reducev.cpp, reduceh.cpp, templates.h.
 *
 * A reduce of 4x or more is a box shrink by a whole factor (vips_shrinkv/vips_shrinkh, with
 * vips_resize's default gap of 2) followed by the residual reduce, as in libvips.
 *
 * Where the native addon is built (native-decode.ts) the box shrinks, the masked sums and the
 * transposes run there (~10x faster than here, the same integers); the plan, the sample positions
 * and the masks are always computed here.
 */
import { nativeDecode } from './native-decode.ts';

export type VipsKernel = 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

const TRANSFORM_SCALE = 64;
const INTERPOLATE_SHIFT = 12;
const INTERPOLATE_SCALE = 1 << INTERPOLATE_SHIFT;
const GAP = 2;

/** One axis of a reduce, as vips_reducev/vips_reduceh plan it: a box shrink by an integer, then the residual. */
export interface ReducePlan {
  readonly from: number;
  readonly to: number;
  /** libvips box-shrinks by this whole factor first when the reduce is 4x or more (its default gap of 2). */
  readonly boxShrink: number;
  /** What is left to reduce after the box shrink (1: nothing). */
  readonly residual: number;
  /** Pixels invented (or dropped, when negative) at the far end, in box-shrunk pixels. */
  readonly extra: number;
}

/** The plan for reducing `from` pixels by `shrink` (>= 1). */
export function reducePlan(from: number, shrink: number): ReducePlan {
  const to = Math.max(1, Math.floor(from / shrink + 0.5)); // VIPS_ROUND_UINT
  const boxShrink = Math.max(1, Math.floor(from / to / GAP));
  return { from, to, boxShrink, residual: shrink / boxShrink, extra: (to * shrink - from) / boxShrink };
}

/**
 * vips_resize's reduce of a whole image: rows by `vertical`, then columns by `horizontal` (either
 * may be absent: that axis is kept). Natively in one call when both axes are reduced, box shrinks
 * included, so the intermediate images never reach the JavaScript heap, and the result is written
 * into `out` when that is large enough (a view of it comes back).
 */
export function reduceImage(src: Uint8Array, width: number, height: number, channels: number, vertical: ReducePlan | undefined, horizontal: ReducePlan | undefined, kernel: VipsKernel, out?: Uint8Array): Uint8Array {
  const native = nativeDecode();
  if (native && vertical && horizontal && vertical.residual !== 1 && horizontal.residual !== 1) {
    const rows = flatSampling(vertical, kernel);
    const columns = flatSampling(horizontal, kernel);
    return native.reduceImage(src, width, height, channels, rows.inputs, rows.masks, rows.n, columns.inputs, columns.masks, columns.n, out, vertical.boxShrink, horizontal.boxShrink);
  }
  const rowsDone = vertical ? reduceRows(src, width, channels, vertical, kernel) : src;
  return horizontal ? reduceColumns(rowsDone, vertical?.to ?? height, channels, horizontal, kernel) : rowsDone;
}

/** Rows: an image of width x plan.from rows becomes width x plan.to rows. */
export function reduceRows(src: Uint8Array, width: number, channels: number, plan: ReducePlan, kernel: VipsKernel): Uint8Array {
  const rowLength = width * channels;
  const boxed = plan.boxShrink > 1 ? boxShrinkRows(src, plan.from, rowLength, plan.boxShrink) : src;
  if (plan.residual === 1) return boxed;
  return reduceLines(boxed, rowLength, plan, kernel);
}

/**
 * Columns: an image of plan.from x height becomes plan.to x height. Run as rows of the transposed
 * image (the same sums in the same integers, so the same result): contiguous inner loops instead
 * of one gather per sample, about twice as fast.
 */
export function reduceColumns(src: Uint8Array, height: number, channels: number, plan: ReducePlan, kernel: VipsKernel): Uint8Array {
  const boxed = plan.boxShrink > 1 ? boxShrinkColumns(src, plan.from, height, channels, plan.boxShrink) : src;
  if (plan.residual === 1) return boxed;
  const from = Math.ceil(plan.from / plan.boxShrink);
  const reduced = reduceLines(transpose(boxed, from, height, channels), height * channels, plan, kernel);
  return transpose(reduced, height, plan.to, channels);
}

/** width x height pixels of `channels` samples to height x width. */
function transpose(src: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const native = nativeDecode();
  if (native) return native.transpose(src, width, height, channels);
  const out = new Uint8Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * channels;
      const to = (x * height + y) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = src[from + c];
    }
  }
  return out;
}

/**
 * The reduce along lines of `lineLength` samples (the rows of an image): output line o is the
 * masked sum of the input lines under its mask. Four samples are summed at once in locals (half
 * the time of a sums array), and taps whose weight is zero are skipped (the mask is wider than
 * the kernel's support at most positions); neither changes an integer of the result.
 */
function reduceLines(src: Uint8Array, lineLength: number, plan: ReducePlan, kernel: VipsKernel): Uint8Array {
  const native = nativeDecode();
  if (native) {
    const { inputs, masks, n } = flatSampling(plan, kernel);
    return native.reduceLines(src, lineLength, inputs, masks, n);
  }
  const { inputs, masks, n } = samplingOf(plan, kernel);
  const out = new Uint8Array(lineLength * plan.to);
  const offsets = new Int32Array(n);
  const round = INTERPOLATE_SCALE >> 1;
  for (let o = 0; o < plan.to; o++) {
    const mask = masks[o];
    let first = 0;
    let end = n;
    while (first < end && mask[first] === 0) first++;
    while (end > first && mask[end - 1] === 0) end--;
    for (let i = first; i < end; i++) offsets[i] = inputs[o * n + i] * lineLength;
    const at = o * lineLength;
    let x = 0;
    for (; x + 4 <= lineLength; x += 4) {
      let s0 = round;
      let s1 = round;
      let s2 = round;
      let s3 = round;
      for (let i = first; i < end; i++) {
        const w = mask[i];
        const r = offsets[i] + x;
        s0 += w * src[r];
        s1 += w * src[r + 1];
        s2 += w * src[r + 2];
        s3 += w * src[r + 3];
      }
      out[at + x] = clip(s0 >> INTERPOLATE_SHIFT);
      out[at + x + 1] = clip(s1 >> INTERPOLATE_SHIFT);
      out[at + x + 2] = clip(s2 >> INTERPOLATE_SHIFT);
      out[at + x + 3] = clip(s3 >> INTERPOLATE_SHIFT);
    }
    for (; x < lineLength; x++) {
      let sum = round;
      for (let i = first; i < end; i++) sum += mask[i] * src[offsets[i] + x];
      out[at + x] = clip(sum >> INTERPOLATE_SHIFT);
    }
  }
  return out;
}

/**
 * vips_shrinkv with ceil: each output row the mean of `k` input rows, the last block padded with
 * copies of the last row; the mean as libvips' vector path takes it, a multiply by a truncated
 * reciprocal: ((sum + floor(k / 2)) * floor(2^32 / (256 k))) >> 24.
 */
function boxShrinkRows(src: Uint8Array, from: number, rowLength: number, k: number): Uint8Array {
  const to = Math.ceil(from / k);
  const out = new Uint8Array(to * rowLength);
  const amend = Math.floor(k / 2);
  const multiplier = Math.floor(2 ** 32 / (256 * k));
  const sums = new Uint32Array(rowLength);
  for (let o = 0; o < to; o++) {
    sums.fill(0);
    for (let j = 0; j < k; j++) {
      const row = Math.min(o * k + j, from - 1) * rowLength;
      for (let x = 0; x < rowLength; x++) sums[x] += src[row + x];
    }
    for (let x = 0; x < rowLength; x++) out[o * rowLength + x] = Math.floor(((sums[x] + amend) * multiplier) / 2 ** 24);
  }
  return out;
}

/** vips_shrinkh with ceil, the same mean across `k` columns (the last block padded with the last column). */
function boxShrinkColumns(src: Uint8Array, from: number, height: number, channels: number, k: number): Uint8Array {
  const to = Math.ceil(from / k);
  const out = new Uint8Array(to * height * channels);
  const amend = Math.floor(k / 2);
  const multiplier = Math.floor(2 ** 32 / (256 * k));
  for (let y = 0; y < height; y++) {
    const row = y * from * channels;
    for (let o = 0; o < to; o++) {
      for (let c = 0; c < channels; c++) {
        let sum = amend;
        for (let j = 0; j < k; j++) sum += src[row + Math.min(o * k + j, from - 1) * channels + c];
        out[(y * to + o) * channels + c] = Math.floor((sum * multiplier) / 2 ** 24);
      }
    }
  }
  return out;
}

/**
 * Where libvips samples for each output position: the n input indices under its mask (edge
 * pixels copied outwards, as libvips embeds the input; row o's at [o * n, o * n + n)) and the mask.
 */
function samplingOf(plan: ReducePlan, kernel: VipsKernel): { inputs: Int32Array; masks: Int32Array[]; n: number } {
  const { to, residual: shrink } = plan;
  const last = Math.ceil(plan.from / plan.boxShrink) - 1;
  const n = pointsOf(kernel, shrink);
  const table = maskTable(kernel, n, shrink);
  // The pixels libvips invents (or drops) at the far end, split evenly between both ends.
  const offset = (1 + plan.extra) / 2 - 1;
  // The input is embedded with ceil(n / 2) - 1 copied edge pixels before its start.
  const embed = Math.ceil(n / 2) - 1;
  const inputs = new Int32Array(n * to);
  const masks: Int32Array[] = [];
  let position = 0.5 * shrink - 0.5 - offset;
  for (let o = 0; o < to; o++) {
    const first = Math.trunc(position) - embed;
    for (let i = 0; i < n; i++) inputs[o * n + i] = clamp(first + i, last);
    const sub = Math.trunc(position * TRANSFORM_SCALE * 2) & (TRANSFORM_SCALE * 2 - 1);
    masks.push(table[(sub + 1) >> 1]);
    position += shrink;
  }
  return { inputs, masks, n };
}

const flatSamplingByKey = new Map<string, { inputs: Int32Array; masks: Int32Array; n: number }>();

/**
 * samplingOf with the masks in one array, `n` per output position, as the native loops take them
 * (which only read them). Kept per plan: a stream's images mostly share a size, and this was
 * rebuilt for every one of them.
 */
function flatSampling(plan: ReducePlan, kernel: VipsKernel): { inputs: Int32Array; masks: Int32Array; n: number } {
  return cached(flatSamplingByKey, `${kernel}:${plan.from}:${plan.to}:${plan.boxShrink}:${plan.residual}`, () => {
    const { inputs, masks, n } = samplingOf(plan, kernel);
    const flat = new Int32Array(inputs.length);
    masks.forEach((mask, o) => flat.set(mask, o * n));
    return { inputs, masks: flat, n };
  });
}

/** map's value for key, made by make() the first time; a stream has a handful of sizes, and the map never grows without bound. */
function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    if (map.size > 64) map.clear();
    map.set(key, value);
  }
  return value;
}

function clamp(i: number, last: number): number {
  return i < 0 ? 0 : i > last ? last : i;
}

function clip(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function pointsOf(kernel: VipsKernel, shrink: number): number {
  const support = kernel === 'linear' ? 1 : kernel === 'lanczos3' ? 3 : 2;
  return 2 * rint(support * shrink) + 1;
}

/** C's rint: round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const masksByKey = new Map<string, Int32Array[]>();

/** The 65 fixed-point masks for sub-pixel positions 0, 1/64, ..., 1 (vips_reduce_make_mask, then (short)(c * 4096)). */
function maskTable(kernel: VipsKernel, n: number, shrink: number): Int32Array[] {
  return cached(masksByKey, `${kernel}:${shrink}`, () => {
    const filter = FILTERS[kernel];
    const table: Int32Array[] = [];
    for (let t = 0; t <= TRANSFORM_SCALE; t++) {
      const half = t / TRANSFORM_SCALE + n / 2 - 1;
      const weights = new Float64Array(n);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        weights[i] = filter((i - half) / shrink);
        sum += weights[i];
      }
      // C's (short) cast: truncated towards zero.
      const mask = new Int32Array(n);
      for (let i = 0; i < n; i++) mask[i] = Math.trunc((weights[i] / sum) * INTERPOLATE_SCALE);
      table.push(mask);
    }
    return table;
  });
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function cubic(x: number, b: number, c: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return ((12 - 9 * b - 6 * c) * ax3 + (-18 + 12 * b + 6 * c) * ax2 + (6 - 2 * b)) / 6;
  if (ax <= 2) return ((-b - 6 * c) * ax3 + (6 * b + 30 * c) * ax2 + (-12 * b - 48 * c) * ax + (8 * b + 24 * c)) / 6;
  return 0;
}

const FILTERS: Record<VipsKernel, (x: number) => number> = {
  linear: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0),
  cubic: (x) => cubic(x, 0, 0.5),
  mitchell: (x) => cubic(x, 1 / 3, 1 / 3),
  lanczos2: (x) => (x >= -2 && x <= 2 ? sinc(x) * sinc(x / 2) : 0),
  lanczos3: (x) => (x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0),
};
