import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VectorIndex } from '../../src/vector-index/vector-index.ts';
import { everyNthRow, exactNeighboursOfQueries, exactNeighboursOfRows, sampledRecall } from './support/exact-truth.ts';
import { fashionMnistImages } from './support/fashion-mnist.ts';
import { recallAtK, sequentialKeys } from './support/vectors.ts';

// Real features: the 10,000 Fashion-MNIST test images as 784-d pixel vectors / 255 in an index
// with default settings (M=16, efAdd=128, efSearch=64, cosine); 1,000 training images serve as
// held-out queries. Both search and trainingSet re-rank 2k graph candidates on the raw rows,
// which is what keeps i8 close to f32 (without it, i8 mined-neighbour recall measured 0.91).
describe('VectorIndex recall on Fashion-MNIST (784-d pixels, default settings)', () => {
  const k = 10;
  const images = fashionMnistImages('t10k');
  const queries = fashionMnistImages('train', 1_000);
  const keys = sequentialKeys(images.count, 42n);
  const sample = everyNthRow(images.count, 5);
  let rowTruth: Int32Array;
  let queryTruth: BigUint64Array;

  beforeAll(async () => {
    rowTruth = await exactNeighboursOfRows(images.pixels, images.count, images.dim, sample, k);
    const rows = await exactNeighboursOfQueries(images.pixels, images.count, queries.pixels, queries.count, images.dim, k);
    queryTruth = BigUint64Array.from(rows, (row) => keys[row]);
  });

  for (const quantization of ['f32', 'f16', 'i8'] as const) {
    describe(quantization, () => {
      let index: VectorIndex;
      beforeAll(async () => {
        index = await VectorIndex.create({ dimensions: images.dim, capacity: images.count, quantization });
        await index.add(keys, images.pixels);
      });
      afterAll(() => index.close());

      it('trainingSet: mined neighbours reach recall@10 >= 0.95', async () => {
        const set = await index.trainingSet(k);
        const recall = sampledRecall(set.neighbours.indices, sample, rowTruth, k);
        console.log(`Fashion-MNIST ${quantization} trainingSet recall@10 (2,000 sampled rows): ${recall.toFixed(4)}`);
        expect(recall).toBeGreaterThanOrEqual(0.95);
      });

      it('search: held-out images reach recall@10 >= 0.95, with exact cosine distances', async () => {
        const found = await index.search(queries.pixels, queries.count, k);
        const recall = recallAtK(found.keys, queryTruth, queries.count, k);
        console.log(`Fashion-MNIST ${quantization} search recall@10 (1,000 held-out queries): ${recall.toFixed(4)}`);
        expect(recall).toBeGreaterThanOrEqual(0.95);
        const first = Number(found.keys[0] - 42n);
        let dot = 0, qq = 0, rr = 0;
        for (let j = 0; j < images.dim; j++) {
          const q = queries.pixels[j];
          const r = images.pixels[first * images.dim + j];
          dot += q * r; qq += q * q; rr += r * r;
        }
        expect(found.distances[0]).toBeCloseTo(1 - dot / Math.sqrt(qq * rr), 5);
      });
    });
  }
});
