import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { solidImage, writeFileIn } from '../image-fixtures.ts';
import { runStages, tempDir } from '../stage-pipeline.ts';

const decode = { use: 'decode', with: { preset: 'mobilenet-v2', size: 16 } };

describe('files source: entries named like images that are not readable files', () => {
  it('regression: link loops, dangling links, FIFOs and links to devices are counted dead letters with a reason, not silent skips', async () => {
    const dir = await tempDir('files-odd-');
    const images = join(dir, 'images');
    await writeFileIn(join(images, 'good.png'), await solidImage('png', 12, 10, { r: 1, g: 2, b: 3 }));
    await symlink('loop-b.png', join(images, 'loop-a.png'));
    await symlink('loop-a.png', join(images, 'loop-b.png'));
    await symlink('nowhere.png', join(images, 'dangling.png'));
    await symlink('/dev/null', join(images, 'null-device.png'));
    execFileSync('mkfifo', [join(images, 'pipe.png')]);
    // Neither an image name nor a followed link: ignored as before.
    await mkdir(join(dir, 'elsewhere'));
    await symlink(join(dir, 'elsewhere'), join(images, 'linked-folder'));
    await writeFile(join(images, 'notes.txt'), 'not an image');

    const { summary, lines, deadLetters } = await runStages(dir, { use: 'files', with: { folder: 'images' } }, [decode]);

    expect(lines.map((l) => l.key)).toEqual(['good.png']);
    const byKey = Object.fromEntries(deadLetters.map((d) => [d.key, d]));
    expect(Object.keys(byKey).sort()).toEqual(['dangling.png', 'loop-a.png', 'loop-b.png', 'null-device.png', 'pipe.png']);
    for (const letter of deadLetters) expect(letter).toMatchObject({ stage: 'files', code: 'TS_ERR_FILES_NOT_A_FILE' });
    expect(byKey['loop-a.png'].reason).toContain('a symbolic link loop');
    expect(byKey['dangling.png'].reason).toContain('a dangling symbolic link');
    expect(byKey['null-device.png'].reason).toContain('a symbolic link to a character device');
    expect(byKey['pipe.png'].reason).toContain('a FIFO');
    expect(byKey['pipe.png'].reason).toContain(join(images, 'pipe.png'));
    // Read failures are records in as well as dead letters.
    expect(summary).toMatchObject({ records: 6, written: 1, deadLettered: 5 });
  }, 60_000);

  it('regression: a file whose name is not valid UTF-8 is read, not reported as ENOENT', async () => {
    const dir = await tempDir('files-bytes-');
    const images = Buffer.from(join(dir, 'images'));
    await mkdir(images);
    const png = await solidImage('png', 12, 10, { r: 9, g: 8, b: 7 });
    await writeFile(Buffer.concat([images, Buffer.from('/caf'), Buffer.from([0xe9]), Buffer.from('.png')]), png);
    await writeFile(Buffer.concat([images, Buffer.from('/caf\u00e9.png')]), png);

    const { summary, lines, deadLetters } = await runStages(dir, { use: 'files', with: { folder: 'images' } }, [decode]);

    expect(deadLetters).toEqual([]);
    expect(lines.map((l) => l.key).sort()).toEqual(['caf%E9.png', 'caf\u00e9.png']);
    expect(summary).toMatchObject({ records: 2, written: 2, deadLettered: 0 });
  }, 60_000);
});
