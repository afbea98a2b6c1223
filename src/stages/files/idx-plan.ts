import { basename } from 'node:path';
import { readIdxImages, readIdxPair, type IdxImages } from '../../datasets/idx-reader.ts';
import type { RawPixels } from '../decode/raw-pixels.ts';
import { windowOf, type SourceItem, type SourcePlan } from './source-plan.ts';

export interface IdxPlanOptions {
  readonly images: string;
  readonly labels?: string;
  readonly offset: number;
  readonly limit?: number;
  readonly source: string;
}

/**
 * Reads an MNIST-family IDX image file (and its label file) whole: even Fashion-MNIST's training
 * split is 47 MB, and reading it up front checks the header, the length and the label count
 * before the first record leaves, so a damaged file fails the run at start with its name and the
 * byte offset instead of half-way through.
 */
export async function planIdx(options: IdxPlanOptions): Promise<SourcePlan> {
  const data: IdxImages & { labels?: Int32Array } = options.labels ? await readIdxPair(options.images, options.labels) : await readIdxImages(options.images);
  const { start, end } = windowOf(data.count, options.offset, options.limit);
  const name = basename(options.images);
  return {
    count: end - start,
    summary: `${end - start} of ${data.count} ${data.rows}x${data.cols} images${data.labels ? ' with labels' : ''} from ${options.images}`,
    items: () => rows(data, start, end, name, options),
  };
}

async function* rows(data: IdxImages & { labels?: Int32Array }, start: number, end: number, name: string, options: IdxPlanOptions): AsyncGenerator<SourceItem> {
  const size = data.rows * data.cols;
  for (let row = start; row < end; row++) {
    // A copy, not a view: a record kept downstream (a dead letter, the index) must not pin the whole file.
    const rawPixels: RawPixels = { width: data.cols, height: data.rows, channels: 1, data: data.pixels.slice(row * size, (row + 1) * size) };
    yield {
      kind: 'record',
      input: {
        key: `${name}#${row}`,
        payload: { rawPixels },
        origin: { source: options.source, file: options.images, position: row },
        ...(data.labels ? { label: data.labels[row] } : {}),
      },
    };
  }
}
