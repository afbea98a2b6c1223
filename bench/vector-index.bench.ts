// Throughput figures for the vector index (not a test: prints numbers, asserts nothing).
//   npm run bench:vector-index
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildNeighbourTable } from '../src/vector-index/neighbour-table.ts';
import { VectorIndex, type VectorIndexConfig } from '../src/vector-index/vector-index.ts';
import { fashionMnistImages } from '../test/vector-index/support/fashion-mnist.ts';
import { gaussianRows, sequentialKeys } from '../test/vector-index/support/vectors.ts';

const seconds = (start: number): number => (performance.now() - start) / 1000;

async function measure(name: string, config: VectorIndexConfig, rows: Float32Array, count: number, queries: Float32Array, queryCount: number): Promise<void> {
  const dim = config.dimensions;
  const index = await VectorIndex.create(config);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const batch = 1_000;
  loop.enable();
  let start = performance.now();
  for (let first = 0; first < count; first += batch) {
    const last = Math.min(count, first + batch);
    await index.add(sequentialKeys(last - first, BigInt(first)), rows.subarray(first * dim, last * dim));
  }
  const addSeconds = seconds(start);
  loop.disable();
  start = performance.now();
  await index.search(queries, queryCount, 10);
  const searchSeconds = seconds(start);
  start = performance.now();
  const set = await index.trainingSet(10);
  const miningSeconds = seconds(start);
  console.log(
    `${name.padEnd(44)} add ${(count / addSeconds).toFixed(0).padStart(6)}/s  search(k=10) ${(queryCount / searchSeconds).toFixed(0).padStart(6)}/s  ` +
      `trainingSet(${set.count} rows, k=10) ${miningSeconds.toFixed(2)} s  main-loop delay during add: max ${(loop.max / 1e6).toFixed(0)} ms`,
  );
  await index.close();
}

const fashion = fashionMnistImages('t10k');
const fashionQueries = fashionMnistImages('train', 2_000);
for (const quantization of ['f32', 'f16', 'i8'] as const) {
  await measure(`Fashion-MNIST 10k x 784, ${quantization}`, { dimensions: 784, capacity: 10_000, quantization }, fashion.pixels, fashion.count, fashionQueries.pixels, fashionQueries.count);
}
const gaussian = gaussianRows(50_000, 128, 1);
const gaussianQueries = gaussianRows(2_000, 128, 2);
await measure('gaussian 50k x 128, f32, capacity 50k', { dimensions: 128, capacity: 50_000 }, gaussian, 50_000, gaussianQueries, 2_000);
await measure('gaussian 50k x 128, f32, window 10k (evicting)', { dimensions: 128, capacity: 10_000 }, gaussian, 50_000, gaussianQueries, 2_000);
await measure('gaussian 50k x 128, f32, reservoir 10k', { dimensions: 128, capacity: 10_000, policy: 'reservoir' }, gaussian, 50_000, gaussianQueries, 2_000);

for (const exact of [false, true]) {
  const start = performance.now();
  await buildNeighbourTable(fashion.pixels, fashion.count, 784, 10, { exact });
  console.log(`buildNeighbourTable Fashion-MNIST 10k x 784, k=10, ${exact ? 'exact' : 'HNSW '}: ${seconds(start).toFixed(2)} s`);
}
