import type { DecodedPixels } from '../../runtime/contracts/record.ts';

export type TensorLayout = 'nchw' | 'nhwc';

/**
 * Copies a batch of images into one tensor buffer in the model's layout. Each image keeps the
 * layout the decode stage wrote (`pixels.layout`, HWC when absent), so any decode preset can feed
 * any model: a matching layout is a straight copy, the other is transposed here. `slots` may
 * exceed the image count (a model with a fixed batch size); the extra slots stay zero. `reuse`,
 * when it has exactly the size needed, is written over instead of allocating (a batch's 10 MB
 * buffer, allocated afresh per batch, costs page faults and garbage collections).
 */
export function packImages(images: readonly DecodedPixels[], layout: TensorLayout, slots = images.length, reuse?: Float32Array): Float32Array {
  if (images.length === 0) return new Float32Array(0);
  const { width, height, channels } = images[0];
  const pixels = width * height;
  const size = pixels * channels;
  const out = reuse?.length === slots * size ? reuse : new Float32Array(slots * size);
  if (out === reuse && slots > images.length) out.fill(0, images.length * size);
  images.forEach((image, n) => {
    const base = n * size;
    const from = image.layout === 'chw' && channels > 1 ? 'nchw' : 'nhwc';
    if (from === layout || channels === 1) {
      out.set(image.data, base);
    } else if (layout === 'nchw') {
      for (let c = 0; c < channels; c++) {
        const plane = base + c * pixels;
        for (let p = 0; p < pixels; p++) out[plane + p] = image.data[p * channels + c];
      }
    } else {
      for (let c = 0; c < channels; c++) {
        const plane = c * pixels;
        for (let p = 0; p < pixels; p++) out[base + p * channels + c] = image.data[plane + p];
      }
    }
  });
  return out;
}
