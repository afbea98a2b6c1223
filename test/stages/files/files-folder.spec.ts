import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pngBomb, noisyJpeg, solidImage, writeFileIn, type ImageFormat } from '../image-fixtures.ts';
import { resolveInDir, runStages, tempDir } from '../stage-pipeline.ts';

const decode = { use: 'decode', with: { preset: 'mobilenet-v2', size: 16 } };

/** A small image tree in deliberately unsorted creation order, with mixed formats and case. */
async function writeTree(dir: string): Promise<string[]> {
  const files: Array<[string, ImageFormat]> = [
    ['zebra/b.webp', 'webp'],
    ['cat/2.png', 'png'],
    ['cat/10.PNG', 'png'],
    ['ant/deep/x.jpg', 'jpeg'],
    ['ant/a.jpeg', 'jpeg'],
    ['cat/1.jpg', 'jpeg'],
  ];
  for (const [i, [path, format]] of files.entries()) await writeFileIn(join(dir, 'images', path), await solidImage(format, 20 + i, 12 + i, { r: 10 * i, g: 100, b: 200 }));
  await writeFileIn(join(dir, 'images', 'cat', 'notes.txt'), 'not an image, and not an image extension either');
  return files.map(([p]) => p);
}

describe('files source: folder of images', () => {
  it('emits every image sorted by relative path, keyed by that path, labelled by sorted class folder', async () => {
    const dir = await tempDir('files-folder-');
    await writeTree(dir);
    const { summary, lines, deadLetters } = await runStages(dir, { use: 'files', with: { folder: 'images', labelsFrom: 'parent-folder' } }, [decode]);

    expect(deadLetters).toEqual([]);
    expect(summary.written).toBe(6);
    // Code-unit order: "10.PNG" sorts before "2.png", upper case before lower case.
    expect(lines.map((l) => l.key)).toEqual(['ant/a.jpeg', 'ant/deep/x.jpg', 'cat/1.jpg', 'cat/10.PNG', 'cat/2.png', 'zebra/b.webp']);
    // parent-folder: "deep" is its own class; classes sorted: ant 0, cat 1, deep 2, zebra 3.
    expect(lines.map((l) => l.label)).toEqual([0, 2, 1, 1, 1, 3]);
    expect(lines.map((l) => l.origin.position)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const line of lines) expect(line.pixels).toEqual({ width: 16, height: 16, channels: 3 });
  });

  it('labels by the first folder below the root with labelsFrom "top-folder" (ImageFolder layout)', async () => {
    const dir = await tempDir('files-top-');
    await writeTree(dir);
    const { lines } = await runStages(dir, { use: 'files', with: { folder: 'images', labelsFrom: 'top-folder' } }, [decode]);
    expect(lines.map((l) => [l.key, l.label])).toEqual([
      ['ant/a.jpeg', 0],
      ['ant/deep/x.jpg', 0],
      ['cat/1.jpg', 1],
      ['cat/10.PNG', 1],
      ['cat/2.png', 1],
      ['zebra/b.webp', 2],
    ]);
  });

  it('gives the same ids on every run, and offset/limit select a window without renumbering classes', async () => {
    const dir = await tempDir('files-window-');
    await writeTree(dir);
    const all = await runStages(dir, { use: 'files', with: { folder: 'images', labelsFrom: 'top-folder' } }, []);
    const windowDir = await tempDir('files-window-b-');
    await writeTree(windowDir);
    const window = await runStages(windowDir, { use: 'files', with: { folder: 'images', labelsFrom: 'top-folder', offset: 2, limit: 3 } }, []);
    expect(window.lines.map((l) => [l.id, l.key, l.label])).toEqual(all.lines.slice(2, 5).map((l) => [l.id, l.key, l.label]));
  });

  it('reads only the top folder with recursive false, and only the listed extensions', async () => {
    const dir = await tempDir('files-flat-');
    await writeFileIn(join(dir, 'images', 'top.png'), await solidImage('png', 8, 8, { r: 1, g: 2, b: 3 }));
    await writeFileIn(join(dir, 'images', 'top.webp'), await solidImage('webp', 8, 8, { r: 1, g: 2, b: 3 }));
    await writeFileIn(join(dir, 'images', 'sub', 'below.png'), await solidImage('png', 8, 8, { r: 1, g: 2, b: 3 }));
    const { lines } = await runStages(dir, { use: 'files', with: { folder: 'images', recursive: false, extensions: ['PNG'] } }, []);
    expect(lines.map((l) => l.key)).toEqual(['top.png']);
    expect(lines[0].label).toBeUndefined();
  });

  it('dead-letters exactly the five broken files, each with its reason, and writes all the good ones', async () => {
    const dir = await tempDir('files-corrupt-');
    const good: string[] = [];
    for (let i = 0; i < 12; i++) {
      const format = (['png', 'jpeg', 'webp'] as const)[i % 3];
      const name = `good/${String(i).padStart(2, '0')}.${format === 'jpeg' ? 'jpg' : format}`;
      await writeFileIn(join(dir, 'images', name), await solidImage(format, 30, 20, { r: i * 20, g: 50, b: 90 }));
      good.push(name);
    }
    const jpeg = await noisyJpeg(128, 128);
    const randomPng = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 251));
    await writeFileIn(join(dir, 'images', 'bad', 'empty.png'), Buffer.alloc(0));
    await writeFileIn(join(dir, 'images', 'bad', 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await writeFileIn(join(dir, 'images', 'bad', 'random.png'), randomPng);
    await writeFileIn(join(dir, 'images', 'bad', 'text.jpg'), 'Hello, I am a text file with a .jpg name.\n');
    await writeFileIn(join(dir, 'images', 'bad', 'bomb.png'), pngBomb(10_000, 10_000));

    const { summary, lines, deadLetters } = await runStages(dir, { use: 'files', with: { folder: 'images' } }, [decode]);

    expect(lines.map((l) => l.key)).toEqual(good);
    expect(summary).toMatchObject({ records: 17, written: 12, deadLettered: 5 });
    const byKey = Object.fromEntries(deadLetters.map((d) => [d.key, d]));
    expect(Object.keys(byKey).sort()).toEqual(['bad/bomb.png', 'bad/empty.png', 'bad/random.png', 'bad/text.jpg', 'bad/truncated.jpg']);
    for (const letter of deadLetters) expect(letter.stage).toBe('decode');
    expect(byKey['bad/empty.png']).toMatchObject({ code: 'TS_ERR_DECODE_EMPTY', reason: 'bad/empty.png: the image is empty (0 bytes)' });
    expect(byKey['bad/truncated.jpg'].code).toBe('TS_ERR_DECODE_TRUNCATED');
    expect(byKey['bad/truncated.jpg'].reason).toMatch(/^bad\/truncated\.jpg: the image data ends early: \d+ bytes, without the JPEG end-of-image marker \(FF D9\)/);
    expect(byKey['bad/random.png']).toMatchObject({ code: 'TS_ERR_DECODE_UNSUPPORTED_FORMAT', reason: 'bad/random.png: not a recognised image (2048 bytes whose content matches no image format)' });
    expect(byKey['bad/text.jpg'].code).toBe('TS_ERR_DECODE_UNSUPPORTED_FORMAT');
    expect(byKey['bad/bomb.png']).toMatchObject({
      code: 'TS_ERR_DECODE_TOO_LARGE',
      reason: 'bad/bomb.png: the image declares 10000x10000 = 100.0 megapixels, over the limit of 50.0 (maxPixels); refused before decoding',
    });
    expect(byKey['bad/bomb.png'].origin.file).toBe(join(dir, 'images', 'bad', 'bomb.png'));
  });

  it('fails the run at start with the folder named when the folder does not exist', async () => {
    const dir = await tempDir('files-missing-');
    await expect(runStages(dir, { use: 'files', with: { folder: 'nope' } }, [])).rejects.toThrow(`${join(dir, 'nope')}: no such folder`);
    await writeFile(join(dir, 'plain-file.png'), 'x');
    await expect(runStages(dir, { use: 'files', with: { folder: 'plain-file.png' } }, [])).rejects.toThrow(/TS_ERR_FILES_NOT_A_FOLDER|expected a folder of images/);
  });
});

describe('files source: configuration', () => {
  const issuesFor = async (withConfig: Record<string, unknown>) => {
    const dir = await tempDir('files-config-');
    const result = await resolveInDir({ name: 'config-test', source: { use: 'files', with: withConfig }, sink: { use: 'jsonl', with: { path: '-' } } }, dir);
    return result.ok ? [] : result.issues.map((i) => `${i.code} at ${i.path}: ${i.message}`);
  };

  it('requires exactly one of folder or idx', async () => {
    expect(await issuesFor({})).toEqual(['TS_ERR_CONFIG_ONE_OF at $.source.with: expected exactly one of "folder" or "idx"']);
    expect(await issuesFor({ folder: 'a', idx: { images: 'b' } })).toEqual(['TS_ERR_CONFIG_ONE_OF at $.source.with: expected exactly one of "folder" or "idx", found both "folder" and "idx"']);
  });

  it('names folder-only options given with idx, and misspelt keys', async () => {
    expect(await issuesFor({ idx: { images: 'b' }, labelsFrom: 'parent-folder' })).toEqual([
      'TS_ERR_CONFIG_UNUSED_KEY at $.source.with.labelsFrom: "labelsFrom" applies only to "folder" and would be ignored here',
    ]);
    expect(await issuesFor({ folder: 'a', limt: 3 })).toEqual(['TS_ERR_CONFIG_UNKNOWN_KEY at $.source.with.limt: unknown key "limt" (did you mean "limit"?)']);
  });

  it('describes the either/or shape in its JSON Schema', async () => {
    const { filesSourcePlugin } = await import('../../../src/stages/files/files-source.plugin.ts');
    const schema = filesSourcePlugin.configSchema.toJsonSchema();
    expect(schema.oneOf).toEqual([{ required: ['folder'] }, { required: ['idx'] }]);
    expect(Object.keys(schema.properties as object)).toEqual(expect.arrayContaining(['folder', 'idx', 'labelsFrom', 'offset', 'limit']));
  });
});
