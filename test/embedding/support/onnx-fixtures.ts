/**
 * ONNX models exported from PyTorch at test time (fixtures/export_onnx_models.py, Debian's
 * python3-torch), with PyTorch's embeddings of the same images. Cached under
 * .cache/test-fixtures/onnx/<hash of script and images> so specs share one export; written to a
 * temporary folder and renamed into place, so parallel workers never see half a fixture.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodedPixels } from '../../../src/runtime/contracts/record.ts';

export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/export_onnx_models.py', import.meta.url));
/** The float16 conversion the script imports: part of what the cached export depends on. */
const FLOAT16_MODULE = fileURLToPath(new URL('../../../scripts/onnx/onnx_float16.py', import.meta.url));
const CACHE = path.resolve('.cache', 'test-fixtures', 'onnx');

export type FixtureModel = 'cnn_fp32' | 'cnn_nhwc' | 'cnn_fixed_batch' | 'cnn_open_size' | 'cnn_fp16' | 'cnn_fp16_graph';

export interface OnnxFixtures {
  readonly dir: string;
  modelPath(name: FixtureModel): string;
  /** PyTorch's embeddings of the images, one row per image. */
  torchRows(name: FixtureModel): Promise<Float32Array[]>;
}

/** `images`: RGB, HWC, all the same square size. */
export async function exportOnnxFixtures(images: readonly DecodedPixels[]): Promise<OnnxFixtures> {
  const size = images[0].width;
  const packed = new Float32Array(images.length * size * size * 3);
  images.forEach((img, i) => packed.set(img.data, i * size * size * 3));
  const bytes = new Uint8Array(packed.buffer);
  const hash = createHash('sha256').update(await readFile(SCRIPT)).update(await readFile(FLOAT16_MODULE)).update(bytes).digest('hex').slice(0, 16);
  const dir = path.join(CACHE, hash);
  if (!existsSync(path.join(dir, 'models.json'))) {
    await mkdir(CACHE, { recursive: true });
    const staging = await mkdtemp(path.join(CACHE, `${hash}.tmp-`));
    try {
      await writeFile(path.join(staging, 'images.f32'), bytes);
      execFileSync(SYSTEM_PYTHON, [SCRIPT, staging, path.join(staging, 'images.f32'), String(images.length), String(size)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
      await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
        if (!existsSync(path.join(dir, 'models.json'))) throw error; // another worker won the race: use its copy
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return {
    dir,
    modelPath: (name) => path.join(dir, `${name}.onnx`),
    async torchRows(name) {
      const file = await readFile(path.join(dir, `${name}.out.f32`));
      const values = new Float32Array(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
      const dim = values.length / images.length;
      return Array.from({ length: images.length }, (_, i) => values.slice(i * dim, (i + 1) * dim));
    },
  };
}
