import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPROCESSING_PRESETS, type PreprocessingPresetName } from '../../src/embedding/preprocessing-presets.ts';
import { decodeImage } from '../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec } from '../../src/stages/decode/decode-spec.ts';
import { normalisePixels } from '../../src/stages/decode/normalise-pixels.ts';
import { SYSTEM_PYTHON } from './support/onnx-fixtures.ts';

/**
 * The decode presets for PyTorch exporters produce what torchvision's transforms produce
 * (fixtures/torch_preprocess.py: antialiased resize of the shorter side, centre crop, mean/std),
 * on a landscape and a portrait photo-like image.
 */
const SCRIPT = fileURLToPath(new URL('./fixtures/torch_preprocess.py', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'temi-presets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Smooth shading, a few hard edges and fine texture: what resize kernels disagree on. */
function testImage(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const disc = (x - width * 0.4) ** 2 + (y - height * 0.5) ** 2 < (Math.min(width, height) * 0.25) ** 2;
      data[i] = Math.round(255 * (x / width));
      data[i + 1] = disc ? 220 : Math.round(128 + 100 * Math.sin(x / 7) * Math.cos(y / 11));
      data[i + 2] = (x >> 4) % 2 === (y >> 4) % 2 ? 200 : 40;
    }
  }
  return data;
}

async function compare(name: PreprocessingPresetName, width: number, height: number): Promise<{ mean: number; max: number }> {
  const preset = PREPROCESSING_PRESETS[name];
  const raw = testImage(width, height);
  const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
  const spec = resolveDecodeSpec({ preset: name });
  const ours = normalisePixels(await decodeImage(new Uint8Array(png), spec, { maxPixels: 1e8, formats: ['png'], failOn: 'warning' }, 'test'), spec);
  expect(ours).toMatchObject({ width: preset.size, height: preset.size, channels: 3, layout: 'chw' });
  const input = path.join(dir, `${name}-${width}x${height}.u8`);
  const output = `${input}.f32`;
  await writeFile(input, raw);
  const mode = preset.kernel === 'linear' ? 'bilinear' : 'bicubic';
  execFileSync(SYSTEM_PYTHON, [SCRIPT, input, String(width), String(height), output, String(preset.size), String(preset.crop), mode, preset.mean.join(','), preset.std.join(',')], {
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const file = await readFile(output);
  const torch = new Float32Array(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
  expect(torch.length).toBe(ours.data.length);
  let sum = 0;
  let max = 0;
  torch.forEach((v, i) => {
    const d = Math.abs(v - ours.data[i]);
    sum += d;
    max = Math.max(max, d);
  });
  return { mean: sum / torch.length, max };
}

describe('decode presets for PyTorch exporters match torchvision preprocessing', () => {
  it.each(['imagenet', 'clip', 'dinov2'] as const)('%s: within 4 8-bit steps of torchvision everywhere (half a step on average), landscape and portrait', async (name) => {
    const step = 1 / 255 / Math.min(...PREPROCESSING_PRESETS[name].std); // one 8-bit step after normalising
    // Both shrink to the preset's resize (photos are larger than 256 px); enlarging follows
    // libvips's interpolator, which is not aligned with torchvision's as closely.
    for (const [w, h] of [[400, 300], [300, 450]]) {
      const diff = await compare(name, w, h);
      console.log(`${name} ${w}x${h}: mean |diff| ${(diff.mean / step).toFixed(2)} steps, max ${(diff.max / step).toFixed(1)} steps`);
      expect(diff.mean).toBeLessThan(0.5 * step);
      expect(diff.max).toBeLessThanOrEqual(4 * step);
    }
  });

  it('dinov2 refuses a size that is not a multiple of its patch size, naming a fitting one', () => {
    expect(() => resolveDecodeSpec({ preset: 'dinov2', size: 230 })).toThrow(/not a multiple of 14 \(e\.g\. 224\)/);
    expect(resolveDecodeSpec({ preset: 'dinov2', size: 518 })).toMatchObject({ width: 518, height: 518, crop: 0.875, kernel: 'cubic', layout: 'chw' });
  });
});
