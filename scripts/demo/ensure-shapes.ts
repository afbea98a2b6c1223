import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderShapes, SHAPES_VERSION } from '../datasets/render-shapes.ts';

export const SHAPES_IMAGES = 500;

/**
 * Renders the shapes into `folder` unless a render of this version and size is already there
 * (the marker file is not an image, so the files source skips it); an older render is replaced.
 */
export async function ensureShapes(folder: string, count = SHAPES_IMAGES): Promise<void> {
  const marker = join(folder, 'rendered.json');
  const wanted = JSON.stringify({ version: SHAPES_VERSION, count });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;
  rmSync(folder, { recursive: true, force: true });
  console.error(`rendering ${count} shape images into ${folder}`);
  await renderShapes(folder, count);
  writeFileSync(marker, wanted);
}
