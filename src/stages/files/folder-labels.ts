import type { ImageFile } from './list-image-files.ts';

/**
 * Where a folder source takes class labels from:
 * - parent-folder: the folder the file sits in (`cats/a.png` and `x/cats/b.png` are both "cats");
 * - top-folder: the first folder below the root, as torchvision's ImageFolder does
 *   (`cats/x/a.png` is "cats").
 * Files directly in the root have no class either way.
 */
export type LabelsFrom = 'none' | 'parent-folder' | 'top-folder';

export function classNameOf(relativePath: string, mode: LabelsFrom): string | undefined {
  if (mode === 'none') return undefined;
  const parts = relativePath.split('/');
  if (parts.length < 2) return undefined;
  return mode === 'parent-folder' ? parts[parts.length - 2] : parts[0];
}

/** Class names sorted (code-unit order) and numbered from 0, so labels are stable across runs. */
export function classIndexOf(files: readonly ImageFile[], mode: LabelsFrom): Map<string, number> {
  const names = new Set<string>();
  for (const f of files) {
    const name = classNameOf(f.relativePath, mode);
    if (name !== undefined) names.add(name);
  }
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(sorted.map((name, i) => [name, i]));
}
