/**
 * The tfjs MMDC trainer against the PyTorch reference of the same spec
 * (bench/reference/mmdc_torch.py, Debian's python3-torch, installed by `npm run setup`): the tfjs
 * trainer records its draws (initial parameters, targets, every epoch's order and views) and
 * PyTorch replays them. Same inputs, so any difference is the implementation's: the views, the
 * trunk and batch norm, the matching, the rotation task, the loss, SGD or the assignment.
 * Refinement is off here: its k-means is scikit-learn's on one side and ours on the other, seeded
 * differently; the trainer spec covers it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReference } from '../../bench/bench-support.ts';
import { RecordingMmdcDraws, writeMmdcTrace } from '../../bench/reference/mmdc-trace.ts';
import { MmdcTrainer } from '../../src/clustering/mmdc/index.ts';
import { locateFashionMnist } from '../../src/datasets/fashion-mnist.ts';
import { readIdxPair } from '../../src/datasets/idx-reader.ts';
import { loadBackend } from '../../src/tf/backends.ts';

/** 4 batches an epoch; rotation epochs at 0 and 2, so both tasks and their alternation are covered. */
const RECORDS = 512;
const EPOCHS = 4;
const OPTIONS = { clusters: 10, widths: [8, 16, 16, 32], batchSize: 128, rotationEvery: 2, refineFraction: 0, seed: 7 };

interface TorchRun {
  epochLosses: number[];
  rotationLosses: (number | null)[];
}

describe('MMDC trainer vs the PyTorch reference on the same draws', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mmdc-parity-'));
  let torch: TorchRun;
  let torchClusters: Int32Array;
  let losses: { clustering: number; rotation?: number }[];
  let clusters: Int32Array;

  beforeAll(async () => {
    await loadBackend('tensorflow');
    const files = locateFashionMnist('test');
    const dataset = await readIdxPair(files.images, files.labels);
    const dim = dataset.rows * dataset.cols;
    const embeddings = Float32Array.from(dataset.pixels.subarray(0, RECORDS * dim), (p) => p / 255);
    const draws = new RecordingMmdcDraws();
    const trainer = new MmdcTrainer(OPTIONS, draws);
    const result = await trainer.trainRound({ count: RECORDS, dim, embeddings, neighbours: { k: 0, indices: new Int32Array(0) } }, { epochs: EPOCHS });
    losses = [...trainer.lastRoundLosses];
    clusters = result.model.assign(embeddings, RECORDS).cluster;
    writeMmdcTrace(directory, draws, trainer.config, EPOCHS, RECORDS);
    result.model.dispose();
    trainer.dispose();

    const out = runReference('mmdc_torch.py', ['--trace', directory, '--predictions', join(directory, 'pred.i32'), '--quiet']);
    torch = JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
    const bytes = readFileSync(join(directory, 'pred.i32'));
    torchClusters = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('gives the same per-epoch clustering and rotation losses (within 5e-4) and the same clusters for nearly every record', () => {
    expect(torch.epochLosses).toHaveLength(EPOCHS);
    for (let e = 0; e < EPOCHS; e++) {
      expect(Math.abs(losses[e].clustering - torch.epochLosses[e])).toBeLessThan(5e-4);
      if (losses[e].rotation === undefined) expect(torch.rotationLosses[e]).toBeNull();
      else expect(Math.abs(losses[e].rotation! - torch.rotationLosses[e]!)).toBeLessThan(5e-4);
    }
    // Guards the comparison itself: the network learnt (the loss at the end is not the loss at the start).
    expect(torch.epochLosses[0] - torch.epochLosses[EPOCHS - 1]).toBeGreaterThan(1e-2);
    let same = 0;
    for (let i = 0; i < RECORDS; i++) if (clusters[i] === torchClusters[i]) same++;
    expect(same / RECORDS).toBeGreaterThanOrEqual(0.98);
  });
});
