/**
 * Renders the fallback demo dataset: small PNGs of a few shape/colour classes with jittered
 * position, size, rotation and background; the class is the parent folder's name.
 * Used by `npm run demo` when Debian's Fashion-MNIST is not installed. Deterministic per seed.
 *
 * Usage: tsx scripts/datasets/render-shapes.ts [outDir] [perClass]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom } from '../../src/numeric/seeded-random.ts';

interface ShapeClass {
  readonly name: string;
  readonly colour: string;
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

export const SHAPE_CLASSES: readonly ShapeClass[] = [
  { name: '0-red-circle', colour: '#d62728', draw: (x, y, r, c) => `<circle cx="${x}" cy="${y}" r="${r}" fill="${c}"/>` },
  { name: '1-green-square', colour: '#2ca02c', draw: (x, y, r, c) => `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="${c}"/>` },
  { name: '2-blue-triangle', colour: '#1f77b4', draw: (x, y, r, c) => `<polygon points="${polygon(x, y, r, 3)}" fill="${c}"/>` },
  { name: '3-orange-star', colour: '#ff7f0e', draw: (x, y, r, c) => `<polygon points="${polygon(x, y, r, 5, 0.45)}" fill="${c}"/>` },
  { name: '4-purple-ring', colour: '#9467bd', draw: (x, y, r, c) => `<circle cx="${x}" cy="${y}" r="${r * 0.75}" fill="none" stroke="${c}" stroke-width="${Math.max(2, r / 3)}"/>` },
  { name: '5-black-cross', colour: '#222222', draw: (x, y, r, c) => `<path d="M${x - r},${y - r} L${x + r},${y + r} M${x + r},${y - r} L${x - r},${y + r}" stroke="${c}" stroke-width="${Math.max(2, r / 3)}"/>` },
];

export async function renderShapes(outDir: string, perClass: number, seed = 1): Promise<number> {
  const random = new SeededRandom(seed);
  const size = 48;
  let written = 0;
  // Layout block-NNN/<class>/NNNNN.png: the files source reads in sorted path order, so blocks
  // interleave the classes the way a live stream would, instead of one class after another.
  for (let i = 0; i < perClass; i++) {
    for (const shape of SHAPE_CLASSES) {
      const dir = join(outDir, `block-${String(Math.floor(i / 10)).padStart(3, '0')}`, shape.name);
      await mkdir(dir, { recursive: true });
      const r = 9 + random.next() * 9;
      const cx = r + random.next() * (size - 2 * r);
      const cy = r + random.next() * (size - 2 * r);
      const grey = Math.round(200 + random.next() * 55);
      const rotate = Math.round(random.next() * 360);
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="rgb(${grey},${grey},${grey})"/><g transform="rotate(${rotate} ${cx.toFixed(1)} ${cy.toFixed(1)})">${shape.draw(cx, cy, r, shape.colour)}</g></svg>`;
      await writeFile(join(dir, `${String(i).padStart(5, '0')}.png`), await sharp(Buffer.from(svg)).png().toBuffer());
      written++;
    }
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? '.cache/shapes';
  const perClass = Number(process.argv[3] ?? 500);
  const n = await renderShapes(out, perClass);
  console.log(`rendered ${n} images (${SHAPE_CLASSES.length} classes) into ${out}`);
}
