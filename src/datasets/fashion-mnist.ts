import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TemiError } from '../runtime/errors.ts';

/** Where Debian's dataset-fashion-mnist package puts the four IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export type MnistSplit = 'train' | 'test';

export interface IdxFilePair {
  readonly images: string;
  readonly labels: string;
}

export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/**
 * Finds the image and label files of one split of an MNIST-family dataset in `directory`
 * (standard names, plain or .gz; the plain file wins when both exist).
 */
export function locateMnistFiles(split: MnistSplit, directory: string = DEBIAN_FASHION_MNIST_DIR): IdxFilePair {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = firstExisting(directory, `${prefix}-images-idx3-ubyte`);
  const labels = firstExisting(directory, `${prefix}-labels-idx1-ubyte`);
  if (!images || !labels) {
    throw new TemiError(
      'TS_ERR_DATASET_NOT_FOUND',
      `the ${split} split needs ${prefix}-images-idx3-ubyte[.gz] and ${prefix}-labels-idx1-ubyte[.gz]; ` +
        `install them with \`npm run setup:datasets\` (Debian: apt-get install dataset-fashion-mnist)`,
      { where: directory, details: { directory, split } },
    );
  }
  return { images, labels };
}

/** Fashion-MNIST as installed by Debian's dataset-fashion-mnist. */
export function locateFashionMnist(split: MnistSplit, directory: string = DEBIAN_FASHION_MNIST_DIR): IdxFilePair {
  return locateMnistFiles(split, directory);
}

function firstExisting(directory: string, name: string): string | undefined {
  for (const candidate of [join(directory, name), join(directory, `${name}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
