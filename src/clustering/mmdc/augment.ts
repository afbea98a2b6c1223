import type { SeededRandom } from '../../numeric/seeded-random.ts';
import type { MmdcConfig } from './mmdc-config.ts';

/**
 * One random view per image, as parameters (struct of arrays, one entry per image), so a replay
 * (the PyTorch parity check) can apply exactly the same views. Views are computed on the host:
 * a few hundred thousand bilinear samples a batch, negligible next to the ConvNet.
 */
export interface ViewParameters {
  /** Rotation of the image about its centre, radians. */
  readonly angle: Float32Array;
  /** Crop side as a fraction of the image side. */
  readonly crop: Float32Array;
  /** Crop origin as a fraction of the room left by the crop (0: left/top, 1: right/bottom). */
  readonly offsetX: Float32Array;
  readonly offsetY: Float32Array;
  /** 1 to mirror horizontally (natural images only). */
  readonly flip: Uint8Array;
  /** Multiplicative brightness and contrast factors (1 for grey images). */
  readonly brightness: Float32Array;
  readonly contrast: Float32Array;
}

/** Colour jitter of the natural domain, as the official CIFAR setting's brightness/contrast 0.4. */
const JITTER = 0.4;

/**
 * Draws `count` training views. Grey: a crop among `crops` at a random place and a rotation within
 * +-rotationDegrees (the official MNIST command); natural: also a horizontal flip and brightness /
 * contrast jitter (its saturation / hue jitter has no effect we could measure here and is left out).
 * `withRotation` false draws crops only (the rotation task's view, as the official one).
 */
export function drawViews(count: number, config: Pick<MmdcConfig, 'crops' | 'rotationDegrees' | 'domain'>, random: SeededRandom, withRotation = true): ViewParameters {
  const views = plainViews(count, 1);
  const natural = config.domain === 'natural';
  const maxAngle = withRotation ? (config.rotationDegrees * Math.PI) / 180 : 0;
  for (let i = 0; i < count; i++) {
    views.crop[i] = config.crops[random.int(config.crops.length)];
    views.offsetX[i] = random.next();
    views.offsetY[i] = random.next();
    views.angle[i] = (2 * random.next() - 1) * maxAngle;
    if (natural && withRotation) {
      views.flip[i] = random.next() < 0.5 ? 1 : 0;
      views.brightness[i] = 1 + (2 * random.next() - 1) * JITTER;
      views.contrast[i] = 1 + (2 * random.next() - 1) * JITTER;
    }
  }
  return views;
}

/** The plain (inference) view: a centred crop of `crop` of the side, resized back, nothing else. */
export function plainViews(count: number, crop: number): ViewParameters {
  return {
    angle: new Float32Array(count),
    crop: new Float32Array(count).fill(crop),
    offsetX: new Float32Array(count).fill(0.5),
    offsetY: new Float32Array(count).fill(0.5),
    flip: new Uint8Array(count),
    brightness: new Float32Array(count).fill(1),
    contrast: new Float32Array(count).fill(1),
  };
}

/**
 * Renders view `v` of image `row` (HWC floats in [0, 1]) into `out` at `outOffset`, same size.
 * Output pixel centre (j + 0.5, i + 0.5) maps into the crop window, the window is rotated about
 * the image centre, an optional mirror follows, and the source is sampled bilinearly at that
 * point with zeros outside the image. Then contrast about the image mean and brightness, clipped.
 */
export function renderView(
  images: Float32Array, row: number, shape: readonly [number, number, number], views: ViewParameters, v: number, out: Float32Array, outOffset: number,
): void {
  const [h, w, c] = shape;
  const base = row * h * w * c;
  const crop = views.crop[v];
  const cropW = crop * w;
  const cropH = crop * h;
  const originX = views.offsetX[v] * (w - cropW);
  const originY = views.offsetY[v] * (h - cropH);
  const cos = Math.cos(views.angle[v]);
  const sin = Math.sin(views.angle[v]);
  const cx = w / 2;
  const cy = h / 2;
  const flip = views.flip[v] === 1;
  // The crop-window coordinates of each output column and row, computed once per view (the same
  // expressions as per pixel, so the same doubles: the PyTorch replay renders bit-alike).
  const pxOf = columnScratch(w);
  for (let j = 0; j < w; j++) pxOf[j] = originX + ((j + 0.5) * cropW) / w - cx;
  for (let i = 0; i < h; i++) {
    const py = originY + ((i + 0.5) * cropH) / h - cy;
    for (let j = 0; j < w; j++) {
      const px = pxOf[j];
      let sx = cx + cos * px - sin * py;
      const sy = cy + sin * px + cos * py;
      if (flip) sx = w - sx;
      // Pixel centres sit at +0.5: index space is the continuous point minus a half.
      const x = sx - 0.5;
      const y = sy - 0.5;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const x1 = x0 + 1;
      const y1 = y0 + 1;
      // Zeros outside the image: each corner's offset, or -1 when it falls outside.
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x1 >= 0 && x1 < w;
      const row0 = y0 >= 0 && y0 < h ? base + y0 * w * c : -1;
      const row1 = y1 >= 0 && y1 < h ? base + y1 * w * c : -1;
      const a00 = row0 >= 0 && inX0 ? row0 + x0 * c : -1;
      const a01 = row0 >= 0 && inX1 ? row0 + x1 * c : -1;
      const a10 = row1 >= 0 && inX0 ? row1 + x0 * c : -1;
      const a11 = row1 >= 0 && inX1 ? row1 + x1 * c : -1;
      const dst = outOffset + (i * w + j) * c;
      for (let ch = 0; ch < c; ch++) {
        const v00 = a00 < 0 ? 0 : images[a00 + ch];
        const v01 = a01 < 0 ? 0 : images[a01 + ch];
        const v10 = a10 < 0 ? 0 : images[a10 + ch];
        const v11 = a11 < 0 ? 0 : images[a11 + ch];
        out[dst + ch] = (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11);
      }
    }
  }
  const brightness = views.brightness[v];
  const contrast = views.contrast[v];
  if (brightness === 1 && contrast === 1) return;
  const size = h * w * c;
  let mean = 0;
  for (let k = 0; k < size; k++) mean += out[outOffset + k];
  mean /= size;
  for (let k = 0; k < size; k++) {
    const value = ((out[outOffset + k] - mean) * contrast + mean) * brightness;
    out[outOffset + k] = Math.min(1, Math.max(0, value));
  }
}

let columns = new Float64Array(0);

/** A reused buffer of at least `w` doubles (rendering is synchronous, so one suffices). */
function columnScratch(w: number): Float64Array {
  if (columns.length < w) columns = new Float64Array(w);
  return columns;
}

/** The views of `rows` (view k for rows[k]) as one NHWC batch buffer. */
export function renderBatch(images: Float32Array, rows: ArrayLike<number>, shape: readonly [number, number, number], views: ViewParameters, viewOffset: number): Float32Array {
  const size = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(rows.length * size);
  for (let k = 0; k < rows.length; k++) renderView(images, rows[k], shape, views, viewOffset + k, out, k * size);
  return out;
}

/**
 * Each image of a square batch in its four rotations (0, 90, 180, 270 degrees counter-clockwise),
 * interleaved per image as the official rotation loader unpacks them; labels 0..3.
 */
export function fourRotations(batch: Float32Array, count: number, shape: readonly [number, number, number]): { images: Float32Array; labels: Int32Array } {
  const [h, w, c] = shape;
  const size = h * w * c;
  const images = new Float32Array(4 * count * size);
  const labels = new Int32Array(4 * count);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < 4; r++) {
      const dst = (4 * n + r) * size;
      labels[4 * n + r] = r;
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          // Counter-clockwise by r quarter turns, as numpy's rot90: out[i][j] = in[j][w-1-i] once.
          let si = i;
          let sj = j;
          for (let t = 0; t < r; t++) {
            const ni = sj;
            const nj = w - 1 - si;
            si = ni;
            sj = nj;
          }
          for (let ch = 0; ch < c; ch++) images[dst + (i * w + j) * c + ch] = batch[n * size + (si * w + sj) * c + ch];
        }
      }
    }
  }
  return { images, labels };
}
