// Run as `node --import tsx test/vector-index/support/standalone-index.ts`: proves the index worker
// starts outside vitest too. Prints one JSON line.
import { VectorIndex } from '../../../src/vector-index/vector-index.ts';
import { gaussianRows, sequentialKeys } from './vectors.ts';

const index = await VectorIndex.create({ dimensions: 8, capacity: 100 });
const rows = gaussianRows(50, 8, 4);
await index.add(sequentialKeys(50, 10n), rows);
const found = await index.search(rows.subarray(8 * 3, 8 * 4), 1, 1);
console.log(JSON.stringify({ size: index.size, nearest: found.keys[0].toString() }));
await index.close();
