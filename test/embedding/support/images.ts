import { SeededRandom } from '../../../src/numeric/seeded-random.ts';
import type { DecodedPixels } from '../../../src/runtime/contracts/record.ts';

/**
 * Deterministic test images in [0, 1] with spatial structure (a blob, stripes and a little noise)
 * so a CNN's features differ from image to image, as they would on photos.
 */
export function syntheticImages(count: number, size: number, channels: number, seed: number): DecodedPixels[] {
  const random = new SeededRandom(seed);
  const images: DecodedPixels[] = [];
  for (let n = 0; n < count; n++) {
    const cx = random.next() * size;
    const cy = random.next() * size;
    const radius = size * (0.1 + 0.3 * random.next());
    const frequency = (1 + 6 * random.next()) / size;
    const tint = Array.from({ length: channels }, () => random.next());
    const data = new Float32Array(size * size * channels);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const blob = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius * radius));
        const stripes = 0.5 + 0.5 * Math.sin(2 * Math.PI * frequency * (x + y));
        for (let c = 0; c < channels; c++) {
          const v = 0.6 * blob * tint[c] + 0.3 * stripes * (1 - tint[c]) + 0.1 * random.next();
          data[(y * size + x) * channels + c] = Math.min(1, Math.max(0, v));
        }
      }
    }
    images.push({ width: size, height: size, channels, data });
  }
  return images;
}
