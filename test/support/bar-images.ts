import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import type { TrainingSet } from '../../src/clustering/contracts.ts';

export const BAR_SIDE = 16;
export const BAR_CLASSES = 3;

/**
 * A small separable image problem for the MMDC trainer: 16x16 grey images in [0, 1] (flattened
 * HWC, as the pixels embedder emits them) of a filled disc, a horizontal bar or a hollow square,
 * at jittered places and sizes, over faint noise. Class i is row i mod 3. No class is another
 * turned by 90 degrees, so the rotation task is well posed on them.
 */
export function barImages(count: number, seed: number): TrainingSet & { labels: Int32Array } {
  const random = new SeededRandom(seed);
  const side = BAR_SIDE;
  const embeddings = new Float32Array(count * side * side);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const kind = n % BAR_CLASSES;
    labels[n] = kind;
    const cx = side / 2 + (random.next() * 2 - 1) * 2.5;
    const cy = side / 2 + (random.next() * 2 - 1) * 2.5;
    const size = 3 + random.next() * 2;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const dx = j + 0.5 - cx;
        const dy = i + 0.5 - cy;
        const inside =
          kind === 0 ? dx * dx + dy * dy <= size * size : kind === 1 ? Math.abs(dy) <= 1.2 && Math.abs(dx) <= size + 2 : Math.max(Math.abs(dx), Math.abs(dy)) <= size && Math.max(Math.abs(dx), Math.abs(dy)) >= size - 1.5;
        embeddings[n * side * side + i * side + j] = Math.min(1, (inside ? 0.9 : 0) + random.next() * 0.1);
      }
    }
  }
  return { count, dim: side * side, embeddings, neighbours: { k: 0, indices: new Int32Array(0) }, labels };
}
