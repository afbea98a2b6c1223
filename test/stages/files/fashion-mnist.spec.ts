/**
 * The whole Fashion-MNIST test split (10,000 images) through files -> decode -> jsonl with the
 * real runtime. CI installs Debian's dataset-fashion-mnist, so a missing dataset FAILS this spec
 * with the install command instead of skipping it.
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateFashionMnist } from '../../../src/datasets/fashion-mnist.ts';
import { readIdxLabels } from '../../../src/datasets/idx-reader.ts';
import { runStages, tempDir } from '../stage-pipeline.ts';

describe('Fashion-MNIST test split through files -> decode -> jsonl', () => {
  it('writes exactly 10,000 lines, in file order, each with its label', async () => {
    // Throws TS_ERR_DATASET_NOT_FOUND with "npm run setup:datasets (Debian: apt-get install dataset-fashion-mnist)".
    const files = locateFashionMnist('test');
    const dir = await tempDir('fashion-mnist-');
    const { summary, lines, deadLetters } = await runStages(dir, { use: 'files', with: { idx: files } }, [{ use: 'decode', with: { preset: 'mnist' } }], { maxInFlight: 2048 });

    console.log(`[files+decode] Fashion-MNIST test split: ${summary.written} records in ${summary.seconds.toFixed(2)} s (${Math.round(summary.written / summary.seconds)} records/s, files -> decode(mnist) -> jsonl)`);
    expect(deadLetters).toEqual([]);
    expect(summary).toMatchObject({ records: 10_000, written: 10_000, deadLettered: 0 });
    expect(lines).toHaveLength(10_000);
    const expectedLabels = Array.from(await readIdxLabels(files.labels));
    expect(lines.map((l) => l.label)).toEqual(expectedLabels);
    const perClass = new Array(10).fill(0);
    for (const l of lines) perClass[l.label]++;
    expect(perClass).toEqual(new Array(10).fill(1000));
    const name = basename(files.images);
    expect(lines[0].key).toBe(`${name}#0`);
    expect(lines[9_999].key).toBe(`${name}#9999`);
    expect(lines[4_321]).toMatchObject({ pixels: { width: 28, height: 28, channels: 1 }, origin: { source: 'files', file: files.images, position: 4_321 } });
  });
});
