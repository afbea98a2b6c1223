import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readIdxImages, readIdxLabels, readIdxPair } from './idx-reader.ts';
import { iterateIdxRecords } from './idx-stream.ts';
import { DEBIAN_FASHION_MNIST_DIR, locateMnistFiles } from './fashion-mnist.ts';

const dir = mkdtempSync(join(tmpdir(), 'idx-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((size, d) => header.writeUInt32BE(size, 4 + 4 * d));
  return Buffer.concat([header, Buffer.from(data)]);
}

function write(name: string, bytes: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

// three 2x3 images whose pixels count up, so every byte's position is checkable
const pixels = Uint8Array.from({ length: 18 }, (_, i) => i * 10);
const labels = Uint8Array.from([7, 0, 9]);

describe('IDX reader', () => {
  it('reads idx3 images and idx1 labels, plain and gzip-compressed alike', async () => {
    const plain = write('images-idx3-ubyte', idx([3, 2, 3], pixels));
    const gz = write('images-idx3-ubyte.gz', gzipSync(idx([3, 2, 3], pixels)));
    for (const file of [plain, gz]) {
      const images = await readIdxImages(file);
      expect([images.count, images.rows, images.cols]).toEqual([3, 2, 3]);
      expect(Array.from(images.pixels)).toEqual(Array.from(pixels));
    }
    const labelFile = write('labels-idx1-ubyte.gz', gzipSync(idx([3], labels)));
    expect(Array.from(await readIdxLabels(labelFile))).toEqual([7, 0, 9]);
    const pair = await readIdxPair(gz, labelFile);
    expect(pair.count).toBe(3);
    expect(Array.from(pair.labels)).toEqual([7, 0, 9]);
  });

  it('names the file and the byte offset where a truncated file ends', async () => {
    const full = idx([3, 2, 3], pixels);
    const file = write('truncated-idx3-ubyte', full.subarray(0, full.length - 5));
    await expect(readIdxImages(file)).rejects.toMatchObject({
      code: 'TS_ERR_IDX_TRUNCATED',
      where: `${file}@29`,
      message: expect.stringContaining('file ends at byte offset 29'),
    });
  });

  it('rejects a wrong magic number, a labels file read as images, trailing bytes and mismatched pairs', async () => {
    const notIdx = write('not-idx', Buffer.from('PK\u0003\u0004 zip file'));
    await expect(readIdxImages(notIdx)).rejects.toMatchObject({ code: 'TS_ERR_IDX_BAD_MAGIC', where: `${notIdx}@0` });
    const labelFile = write('labels-only-idx1-ubyte', idx([3], labels));
    await expect(readIdxImages(labelFile)).rejects.toMatchObject({ code: 'TS_ERR_IDX_BAD_DIMS', where: `${labelFile}@3` });
    const longer = write('longer-idx1-ubyte', Buffer.concat([idx([3], labels), Buffer.from([1, 2])]));
    await expect(readIdxLabels(longer)).rejects.toMatchObject({ code: 'TS_ERR_IDX_TRAILING_BYTES', where: `${longer}@11` });
    const images = write('four-idx3-ubyte', idx([4, 1, 1], Uint8Array.from([1, 2, 3, 4])));
    await expect(readIdxPair(images, labelFile)).rejects.toMatchObject({ code: 'TS_ERR_IDX_COUNT_MISMATCH' });
    await expect(readIdxLabels(join(dir, 'missing'))).rejects.toMatchObject({ code: 'TS_ERR_IDX_NOT_FOUND' });
  });

  it('reports a gzip file cut short as a damaged stream, naming the file', async () => {
    const whole = gzipSync(idx([3, 2, 3], pixels));
    const file = write('cut-idx3-ubyte.gz', whole.subarray(0, whole.length - 8));
    await expect(readIdxImages(file)).rejects.toMatchObject({ code: 'TS_ERR_IDX_GZIP', where: `${file}@${whole.length - 8}` });
  });

  it('streams records one at a time and detects truncation at the end of the stream', async () => {
    const file = write('stream-idx3-ubyte.gz', gzipSync(idx([3, 2, 3], pixels)));
    const seen: number[][] = [];
    for await (const record of iterateIdxRecords(file, 3)) seen.push(Array.from(record.bytes));
    expect(seen).toEqual([0, 1, 2].map((r) => Array.from(pixels.subarray(r * 6, r * 6 + 6))));
    const full = idx([3, 2, 3], pixels);
    const cut = write('stream-cut-idx3-ubyte', full.subarray(0, full.length - 5));
    const consume = async (): Promise<number> => {
      let n = 0;
      for await (const _record of iterateIdxRecords(cut, 3)) n += 1;
      return n;
    };
    await expect(consume()).rejects.toMatchObject({ code: 'TS_ERR_IDX_TRUNCATED', where: `${cut}@29` });
  });

  it('locates the four files of a split, preferring plain over .gz, and says how to install them', () => {
    write('t10k-images-idx3-ubyte.gz', Buffer.alloc(1));
    write('t10k-labels-idx1-ubyte', Buffer.alloc(1));
    expect(locateMnistFiles('test', dir)).toEqual({
      images: join(dir, 't10k-images-idx3-ubyte.gz'),
      labels: join(dir, 't10k-labels-idx1-ubyte'),
    });
    expect(() => locateMnistFiles('train', dir)).toThrow(/TS_ERR_DATASET_NOT_FOUND.*setup:datasets/);
  });

  // needs `npm run setup:datasets` (Debian's dataset-fashion-mnist), like the quality bench
  it("reads Debian's Fashion-MNIST test split: 10,000 28x28 images, 1,000 per class", async () => {
    const files = locateMnistFiles('test', DEBIAN_FASHION_MNIST_DIR);
    const data = await readIdxPair(files.images, files.labels);
    expect([data.count, data.rows, data.cols]).toEqual([10_000, 28, 28]);
    const perClass = new Array(10).fill(0);
    for (const label of data.labels) perClass[label] += 1;
    expect(perClass).toEqual(new Array(10).fill(1000));
  });
});
