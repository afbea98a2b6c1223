import { join } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../../../src/runtime/contracts/plugin.ts';
import type { PipelineRun } from '../../../src/runtime/pipeline-run.ts';
import { s } from '../../../src/runtime/schema/schema.ts';
import { idxImages, idxLabels, writeFileIn } from '../image-fixtures.ts';
import { runStages, tempDir } from '../stage-pipeline.ts';

const COUNT = 25;
const labels = Array.from({ length: COUNT }, (_, i) => (i * 3) % 10);
/** Image n is a flat field of value n * 10, so a record's pixels tell which row it came from. */
const images = () => idxImages(COUNT, 6, 5, (n) => n * 10);

async function writePair(dir: string, gzip: boolean): Promise<{ images: string; labels: string }> {
  const suffix = gzip ? '.gz' : '';
  await writeFileIn(join(dir, 'data', `imgs-idx3-ubyte${suffix}`), images(), gzip);
  await writeFileIn(join(dir, 'data', `lbls-idx1-ubyte${suffix}`), idxLabels(labels), gzip);
  return { images: `data/imgs-idx3-ubyte${suffix}`, labels: `data/lbls-idx1-ubyte${suffix}` };
}

describe('files source: IDX pairs', () => {
  for (const gzip of [false, true]) {
    it(`emits every row of a ${gzip ? 'gzipped' : 'plain'} pair in order, keyed <file>#<row>, labels in metadata`, async () => {
      const dir = await tempDir('files-idx-');
      const pair = await writePair(dir, gzip);
      const { summary, lines, deadLetters } = await runStages(dir, { use: 'files', with: { idx: pair } }, [{ use: 'decode', with: { preset: 'mnist', size: 6 } }]);
      expect(deadLetters).toEqual([]);
      expect(summary).toMatchObject({ records: COUNT, written: COUNT });
      const name = gzip ? 'imgs-idx3-ubyte.gz' : 'imgs-idx3-ubyte';
      expect(lines.map((l) => l.key)).toEqual(labels.map((_, row) => `${name}#${row}`));
      expect(lines.map((l) => l.label)).toEqual(labels);
      expect(lines[7].origin).toEqual({ source: 'files', file: join(dir, pair.images), position: 7 });
      expect(lines[0].pixels).toEqual({ width: 6, height: 6, channels: 1 });
    });
  }

  it('applies offset and limit to rows, keeping each row its own number and label', async () => {
    const dir = await tempDir('files-idx-window-');
    const pair = await writePair(dir, true);
    const { lines } = await runStages(dir, { use: 'files', with: { idx: pair, offset: 20, limit: 3 } }, []);
    expect(lines.map((l) => [l.key, l.label])).toEqual([
      ['imgs-idx3-ubyte.gz#20', labels[20]],
      ['imgs-idx3-ubyte.gz#21', labels[21]],
      ['imgs-idx3-ubyte.gz#22', labels[22]],
    ]);
  });

  it('emits unlabelled rows when no label file is given', async () => {
    const dir = await tempDir('files-idx-nolabels-');
    const pair = await writePair(dir, false);
    const { lines } = await runStages(dir, { use: 'files', with: { idx: { images: pair.images }, limit: 2 } }, []);
    expect(lines.map((l) => [l.key, l.label])).toEqual([
      ['imgs-idx3-ubyte#0', undefined],
      ['imgs-idx3-ubyte#1', undefined],
    ]);
  });

  it('fails at start naming the file and the byte offset of a bad header', async () => {
    const dir = await tempDir('files-idx-bad-');
    const broken = images();
    broken[2] = 0x0d; // element type: float instead of unsigned byte
    await writeFileIn(join(dir, 'bad-idx3-ubyte'), broken);
    await expect(runStages(dir, { use: 'files', with: { idx: { images: 'bad-idx3-ubyte' } } }, [])).rejects.toThrow(
      `${join(dir, 'bad-idx3-ubyte')}@2: expected element type 0x08 (unsigned byte), found 0x0d`,
    );
  });

  it('fails at start when the label file does not match the image count, or is missing', async () => {
    const dir = await tempDir('files-idx-mismatch-');
    await writeFileIn(join(dir, 'imgs-idx3-ubyte'), images());
    await writeFileIn(join(dir, 'lbls-idx1-ubyte'), idxLabels(labels.slice(0, 24)));
    await expect(runStages(dir, { use: 'files', with: { idx: { images: 'imgs-idx3-ubyte', labels: 'lbls-idx1-ubyte' } } }, [])).rejects.toThrow(/holds 25 images but .*lbls-idx1-ubyte holds 24 labels/);
    await expect(runStages(dir, { use: 'files', with: { idx: { images: 'imgs-idx3-ubyte', labels: 'none-idx1-ubyte' } } }, [])).rejects.toThrow(`${join(dir, 'none-idx1-ubyte')}: no such file`);
  });
});

describe('files source: stopping', () => {
  it('stops emitting soon after the run is stopped, and everything it emitted is still written', async () => {
    const dir = await tempDir('files-idx-stop-');
    await writeFileIn(join(dir, 'many-idx3-ubyte'), idxImages(5_000, 4, 4, (n) => n % 256));
    let run: PipelineRun | undefined;
    let seen = 0;
    // A stage that asks for a graceful stop (as SIGTERM does) once 100 records went through it.
    const stopAfter100 = definePlugin({
      name: 'stop-after-100',
      kind: 'stage',
      description: 'Stops the run after 100 records.',
      configSchema: s.object({}),
      deps: {},
      create: () => ({ operator: tap(() => (++seen === 100 ? void run!.stop() : undefined)) }),
    });
    const maxInFlight = 64;
    const { summary, lines } = await runStages(dir, { use: 'files', with: { idx: { images: 'many-idx3-ubyte' } } }, [{ use: 'stop-after-100' }], { maxInFlight }, {
      plugins: [stopAfter100],
      onRun: (r) => (run = r),
    });
    expect(summary.stopped).toBe(true);
    expect(summary.records).toBeGreaterThanOrEqual(100);
    expect(summary.records).toBeLessThanOrEqual(100 + maxInFlight);
    expect(summary.written).toBe(summary.records);
    expect(lines.map((l) => l.key)).toEqual(Array.from({ length: summary.records }, (_, row) => `many-idx3-ubyte#${row}`));
  });
});
