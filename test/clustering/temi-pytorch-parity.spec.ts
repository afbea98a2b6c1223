/**
 * The tfjs TEMI trainer against the PyTorch reference of the same spec
 * (bench/reference/temi_torch_quality.py, Debian's python3-torch, installed by `npm run setup`):
 * PyTorch trains from its own seeded draws and writes them out; the tfjs trainer replays them.
 * Same inputs, so any difference is the implementation's: the loss, the optimiser, the warm-up,
 * the last-layer freeze, the teacher EMA, the best-head choice or the serving path.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReference } from '../../bench/bench-support.ts';
import { readTemiTrace, recordedDraws } from '../../bench/reference/temi-trace.ts';
import { TemiTrainer } from '../../src/clustering/temi/index.ts';
import { locateFashionMnist } from '../../src/datasets/fashion-mnist.ts';
import { readIdxPair } from '../../src/datasets/idx-reader.ts';
import { loadBackend } from '../../src/tf/backends.ts';

/** 4 steps an epoch; 8 epochs take the run through the 5-epoch warm-up and past the last-layer freeze. */
const RECORDS = 1024;
const HEADS = 2;
const EPOCHS = 8;

interface TorchRun {
  epochLosses: number[];
}

describe('TEMI trainer vs the PyTorch reference on the same draws', () => {
  const directory = mkdtempSync(join(tmpdir(), 'temi-parity-'));
  let torch: TorchRun;
  let torchClusters: Int32Array;
  let embeddings: Float32Array;

  beforeAll(async () => {
    const out = runReference('temi_torch_quality.py', [
      '--limit', String(RECORDS), '--heads', String(HEADS), '--epochs', String(EPOCHS), '--export-trace', directory, '--predictions', join(directory, 'pred.i32'),
    ]);
    torch = JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
    const bytes = readFileSync(join(directory, 'pred.i32'));
    torchClusters = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const files = locateFashionMnist('test');
    const dataset = await readIdxPair(files.images, files.labels);
    const dim = dataset.rows * dataset.cols;
    embeddings = Float32Array.from(dataset.pixels.subarray(0, RECORDS * dim), (p) => p / 255);
    await loadBackend('tensorflow');
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('gives the same per-epoch losses (within 1e-4) and the same clusters for nearly every record', async () => {
    const trace = readTemiTrace(directory);
    const trainer = new TemiTrainer({ heads: HEADS, clusters: 10 }, recordedDraws(trace));
    const losses: number[] = [];
    const result = await trainer.trainRound(
      { count: RECORDS, dim: trace.manifest.dim, embeddings, neighbours: trace.neighbours },
      { epochs: EPOCHS, onEpoch: ({ meanLoss }) => losses.push(meanLoss) },
    );
    const { cluster } = result.model.assign(embeddings, RECORDS);
    result.model.dispose();
    trainer.dispose();

    expect(losses).toHaveLength(EPOCHS);
    for (let e = 0; e < EPOCHS; e++) expect(Math.abs(losses[e] - torch.epochLosses[e])).toBeLessThan(1e-4);
    // Guards the comparison itself: the heads moved (the loss at the end is not the loss at the start).
    expect(Math.abs(torch.epochLosses[EPOCHS - 1] - torch.epochLosses[0])).toBeGreaterThan(1e-3);
    let same = 0;
    for (let i = 0; i < RECORDS; i++) if (cluster[i] === torchClusters[i]) same++;
    expect(same / RECORDS).toBeGreaterThanOrEqual(0.99);
  });

  it('refuses a trainer whose shapes differ from the recorded ones, naming the difference', async () => {
    const trace = readTemiTrace(directory);
    const trainer = new TemiTrainer({ heads: HEADS + 1, clusters: 10 }, recordedDraws(trace));
    await expect(
      trainer.trainRound({ count: RECORDS, dim: trace.manifest.dim, embeddings, neighbours: trace.neighbours }, { epochs: 1 }),
    ).rejects.toThrow('the trace was recorded with heads 2, found 3');
    trainer.dispose();
  });
});
