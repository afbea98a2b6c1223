/**
 * Writes what the tfjs TEMI trainer's first round starts from and sees, so the PyTorch port can
 * replay it exactly (bench/reference/temi_torch_quality.py --trace DIR): the initial head
 * parameters, the exact cosine kNN table, and the 2B row indices of every step. With identical
 * inputs the two implementations' per-epoch losses and final scores can be compared directly,
 * separating implementation differences from seed-to-seed variation.
 *
 * Usage: npx tsx bench/reference/export-temi-trace.ts --out DIR [--seed 0] [--epochs 30]
 * Then:  /usr/bin/python3 bench/reference/temi_torch_quality.py --trace DIR
 * and:   npx tsx bench/quality.bench.ts --methods temi --seed <same> --no-reference  (tfjs side)
 */
import { parseArgs } from 'node:util';
import { SeededRandom, roundSeed } from '../../src/numeric/seeded-random.ts';
import { headDimensions } from '../../src/clustering/temi/head-layout.ts';
import { initialHeadValues } from '../../src/clustering/temi/head-init.ts';
import { PairSampler } from '../../src/clustering/temi/pair-sampler.ts';
import { resolveTemiConfig } from '../../src/clustering/temi/temi-config.ts';
import { locateFashionMnist } from '../../src/datasets/fashion-mnist.ts';
import { readIdxPair } from '../../src/datasets/idx-reader.ts';
import { buildNeighbourTable } from '../../src/vector-index/neighbour-table.ts';
import { writeTemiTrace } from './temi-trace.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, seed: { type: 'string', default: '0' }, epochs: { type: 'string', default: '30' } } });
if (!values.out) throw new Error('--out DIR is required');
const seed = Number(values.seed);
const epochs = Number(values.epochs);
const config = resolveTemiConfig({ seed });

const files = locateFashionMnist('test');
const dataset = await readIdxPair(files.images, files.labels);
const count = dataset.count;
const dim = dataset.rows * dataset.cols;
const embeddings = Float32Array.from(dataset.pixels.subarray(0, count * dim), (p) => p / 255);
const neighbours = await buildNeighbourTable(embeddings, count, dim, 50, { exact: true });

// Same draws, in the same order, as TemiTrainer.trainRound's first round.
const dims = headDimensions(config, dim);
const initial = initialHeadValues(dims, new SeededRandom(config.seed));
const sampler = new PairSampler(neighbours, count);
const random = new SeededRandom(roundSeed(config.seed, 0));
const steps = sampler.stepsPerEpoch(config.batchSize);
const rows = new Int32Array(epochs * steps * 2 * config.batchSize);
let offset = 0;
for (let e = 0; e < epochs; e++) {
  for (const pairRows of sampler.epochSteps(config.batchSize, random)) {
    rows.set(pairRows, offset);
    offset += pairRows.length;
  }
}

writeTemiTrace(values.out, {
  manifest: { ...dims, k: neighbours.k, epochs, stepsPerEpoch: steps, batch: config.batchSize, seed, count, source: 'tfjs' },
  initial,
  rows,
  neighbours: { k: neighbours.k, indices: Int32Array.from(neighbours.indices) },
});
console.log(`wrote ${values.out}: ${epochs} epochs x ${steps} steps, init of ${dims.heads} heads, kNN k=${neighbours.k}`);
