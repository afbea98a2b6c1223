/**
 * Renders the fallback demo dataset: 48x48 PNGs of six shape/colour classes with jittered size,
 * position, rotation and background; the class is the parent folder's name. Used by `npm run
 * demo` when Debian's Fashion-MNIST is not installed (or DEMO_DATA=shapes). Deterministic per seed.
 *
 * Usage: tsx scripts/datasets/render-shapes.ts [outDir] [count]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom } from '../../src/numeric/seeded-random.ts';

interface ShapeClass {
  readonly name: string;
  readonly colour: string;
  /** Largest rotation in degrees either way: a cross turned 45 degrees is another picture at 8x8. */
  readonly spin: number;
  readonly draw: (cx: number, cy: number, r: number, colour: string) => string;
}

const polygon = (cx: number, cy: number, r: number, points: number, inner = 1): string => {
  const coords: string[] = [];
  for (let i = 0; i < points * (inner === 1 ? 1 : 2); i++) {
    const radius = inner !== 1 && i % 2 === 1 ? r * inner : r;
    const angle = (Math.PI * 2 * i) / (points * (inner === 1 ? 1 : 2)) - Math.PI / 2;
    coords.push(`${(cx + radius * Math.cos(angle)).toFixed(1)},${(cy + radius * Math.sin(angle)).toFixed(1)}`);
  }
  return coords.join(' ');
};

// Six classes a pixel clusterer should separate: saturated colours far apart in RGB, bold shapes
// that fill most of the frame (a small shape on a large background makes every image look alike).
export const SHAPE_CLASSES: readonly ShapeClass[] = [
  { name: '0-red-circle', colour: '#e6194b', spin: 180, draw: (x, y, r, c) => `<circle cx="${x}" cy="${y}" r="${r}" fill="${c}"/>` },
  { name: '1-green-square', colour: '#2ca02c', spin: 180, draw: (x, y, r, c) => `<rect x="${x - 0.8 * r}" y="${y - 0.8 * r}" width="${1.6 * r}" height="${1.6 * r}" fill="${c}"/>` },
  { name: '2-blue-triangle', colour: '#1f4fe0', spin: 180, draw: (x, y, r, c) => `<polygon points="${polygon(x, y, r, 3)}" fill="${c}"/>` },
  { name: '3-yellow-star', colour: '#f5c400', spin: 180, draw: (x, y, r, c) => `<polygon points="${polygon(x, y, r, 5, 0.5)}" fill="${c}"/>` },
  { name: '4-purple-ring', colour: '#9b30d0', spin: 180, draw: (x, y, r, c) => `<circle cx="${x}" cy="${y}" r="${r * 0.7}" fill="none" stroke="${c}" stroke-width="${r * 0.55}"/>` },
  { name: '5-black-cross', colour: '#1a1a1a', spin: 15, draw: (x, y, r, c) => `<path d="M${x - r},${y} L${x + r},${y} M${x},${y - r} L${x},${y + r}" stroke="${c}" stroke-width="${r * 0.6}"/>` },
];

/** Bump when the pictures change, so a cached render from an older version is redrawn. */
export const SHAPES_VERSION = 2;

/** Images of each class in one block folder. */
const BLOCK = 5;

/** Writes `count` images, the classes in turn; returns how many were written. */
export async function renderShapes(outDir: string, count: number, seed = 1): Promise<number> {
  const random = new SeededRandom(seed);
  const size = 48;
  // Layout block-NNN/<class>/NNNNN.png: the files source reads in sorted path order, so small
  // blocks interleave the classes the way a live stream would, instead of one class after another.
  for (let i = 0; i < count; i++) {
    const shape = SHAPE_CLASSES[i % SHAPE_CLASSES.length];
    const n = Math.floor(i / SHAPE_CLASSES.length);
    const dir = join(outDir, `block-${String(Math.floor(n / BLOCK)).padStart(3, '0')}`, shape.name);
    await mkdir(dir, { recursive: true });
    const r = 15 + random.next() * 6;
    const cx = size / 2 + (random.next() - 0.5) * 8;
    const cy = size / 2 + (random.next() - 0.5) * 8;
    const grey = Math.round(225 + random.next() * 30);
    const rotate = Math.round((random.next() * 2 - 1) * shape.spin);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="rgb(${grey},${grey},${grey})"/><g transform="rotate(${rotate} ${cx.toFixed(1)} ${cy.toFixed(1)})">${shape.draw(cx, cy, r, shape.colour)}</g></svg>`;
    await writeFile(join(dir, `${String(n).padStart(5, '0')}.png`), await sharp(Buffer.from(svg)).png().toBuffer());
  }
  return count;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? '.cache/shapes';
  const count = Number(process.argv[3] ?? 500);
  const n = await renderShapes(out, count);
  console.log(`rendered ${n} images (${SHAPE_CLASSES.length} classes) into ${out}`);
}
