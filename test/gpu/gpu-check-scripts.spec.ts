/**
 * The GPU check's scripts as a user meets them on a machine without a GPU: the ratio table from
 * the benches' files (scripts/gpu/compare-runs.ts), and the offline bundle's refusals
 * (scripts/gpu/run-bundle.sh, bundle.sh), which must stop before they touch the checkout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/pipeline-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

async function runsDir(withGpu: boolean, withTorch: boolean): Promise<string> {
  const dir = await tempDir('temi-gpu-runs-');
  const embed = (engine: string, rates: number[]) => JSON.stringify({ rows: rates.map((r, i) => ({ engine, batch: [1, 16, 64][i], imagesPerSecond: r })) });
  const train = (backend: string, rate: number) => JSON.stringify({ tfjs: [{ requested: backend, backend: 'tensorflow', samplesPerSecond: rate }] });
  await writeFile(path.join(dir, 'embed-cpu.json'), embed('tfjs tensorflow', [100, 400, 500]));
  await writeFile(path.join(dir, 'train-cpu.json'), train('tensorflow', 2000));
  if (withGpu) {
    await writeFile(path.join(dir, 'embed-gpu.json'), embed('tfjs tensorflow-gpu', [300, 1600, 2000]));
    await writeFile(path.join(dir, 'train-gpu.json'), train('tensorflow-gpu', 3000));
    const pipelineRows = [
      { engine: 'tfjs tensorflow-gpu', batch: 16, imagesPerSecond: 1700 },
      { engine: 'pipeline raw tensorflow-gpu', batch: 16, imagesPerSecond: 1360, bare: 1700 },
      { engine: 'pipeline photo tensorflow-gpu', batch: 16, imagesPerSecond: 850, bare: 1700 },
      { engine: 'host path raw', batch: 16, imagesPerSecond: 1400 },
    ];
    await writeFile(path.join(dir, 'pipeline-gpu.json'), JSON.stringify({ rows: pipelineRows }));
    const threadRows = [{ engine: 'pipeline jpeg tensorflow-gpu', batch: 64, imagesPerSecond: 700, bare: 1750 }];
    await writeFile(path.join(dir, 'pipeline-gpu-threads.json'), JSON.stringify({ rows: threadRows }));
  }
  if (withTorch) {
    const line = (batch: number, rate: number) => JSON.stringify({ batch, images_per_s: rate, torch: '2.11.0+cu130', device: 'cuda' });
    await writeFile(path.join(dir, 'torch-embed-gpu.jsonl'), [line(1, 200), line(16, 3200), line(64, 8000)].join('\n'));
    await writeFile(path.join(dir, 'torch-train-gpu.json'), JSON.stringify({ samplesPerSecond: 6000, torch: '2.11.0+cu130', device: 'cuda' }));
  }
  return dir;
}

describe('npm run check:gpu: the ratio table', () => {
  it('sets tensorflow-gpu against native CPU and against PyTorch on the same GPU, per batch size', async () => {
    const { status, out } = run('node', [TSX, 'scripts/gpu/compare-runs.ts', await runsDir(true, true)]);
    expect(status).toBe(0);
    const rows = out.split('\n');
    // batch, CPU, GPU, GPU / CPU, PyTorch, tensorflow-gpu / PyTorch
    expect(rows.find((r) => /^\s+1\s/.test(r))).toMatch(/100\.0\s+300\.0\s+3\.00x\s+200\.0\s+1\.50x/);
    expect(rows.find((r) => /^\s+64\s/.test(r))).toMatch(/500\.0\s+2000\.0\s+4\.00x\s+8000\.0\s+0\.25x/);
    expect(out).toContain('GPU / CPU 1.50x');
    expect(out).toMatch(/PyTorch 2\.11\.0\+cu130 \(GPU\) 6000\.0\s+tensorflow-gpu \/ PyTorch 0\.50x/);
    // The pipeline against the bare model on the GPU, where the pipeline's thread is the limit.
    expect(out).toContain('raw   batch  16: 1360.0 / 1700.0 images/s = 0.80x');
    expect(out).toContain('photo batch  16: 850.0 / 1700.0 images/s = 0.50x');
    expect(out).toContain('host path (a near-free model): raw b16 1400.0 images/s');
    // The JPEG rows again with 4 decode threads, in a table of their own.
    expect(out).toMatch(/4 decode threads:\n  jpeg  batch  64: 700\.0 \/ 1750\.0 images\/s = 0\.40x/);
  });

  it("summarises a run's CPU profiles per thread: how busy, and with what", async () => {
    const dir = await tempDir('temi-gpu-profiles-');
    const busy = 'function spinFor(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x++; return x; } spinFor(200);';
    expect(run('node', ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', busy]).status).toBe(0);
    const { status, out } = run('node', [TSX, 'scripts/gpu/profile-summary.ts', dir, '--top', '3']);
    expect(status).toBe(0);
    expect(out).toMatch(/\.cpuprofile: \d+ ms sampled, \d+ ms busy/);
    expect(out).toMatch(/ms\s+[\d.]+%\s+spinFor/);
  });

  it('without GPU figures prints the CPU side and says why the GPU side is missing', async () => {
    const { status, out } = run('node', [TSX, 'scripts/gpu/compare-runs.ts', await runsDir(false, false), 'TensorFlow found no usable GPU']);
    expect(status).toBe(0);
    expect(out).toMatch(/^\s+16\s+400\.0\s+-\s+-$/m);
    expect(out).not.toContain('PyTorch');
    expect(out).toContain('tensorflow-gpu: no figures: TensorFlow found no usable GPU');
  });
});

describe('the offline GPU bundle', () => {
  it('run-bundle.sh will not unpack over a node_modules that no bundle wrote', async () => {
    const bundle = await tempDir('temi-gpu-bundle-');
    await writeFile(path.join(bundle, 'SHA256SUMS'), `${'0'.repeat(64)}  temi-gpu-bundle.tar.zst\n`);
    const { status, out } = run('bash', ['scripts/gpu/run-bundle.sh', '--bundle', bundle]);
    expect(status).toBe(1);
    expect(out).toContain('node_modules exists and no bundle wrote it');
  });

  it('run-bundle.sh refuses parts that do not add up to the bundle, before unpacking anything', async () => {
    const bundle = await tempDir('temi-gpu-bundle-');
    await mkdir(bundle, { recursive: true });
    await writeFile(path.join(bundle, 'SHA256SUMS'), `${'0'.repeat(64)}  temi-gpu-bundle.tar.zst\n`);
    await writeFile(path.join(bundle, 'temi-gpu-bundle.tar.zst.part-00'), 'not the bundle');
    const { status, out } = run('bash', ['scripts/gpu/run-bundle.sh', '--bundle', bundle, '--force']);
    expect(status).toBe(1);
    expect(out).toContain("the bundle's sha256 differs from SHA256SUMS");
    expect(existsSync(path.join(ROOT, 'node_modules/.temi-gpu-bundle'))).toBe(false);
  });

  it('run-bundle.sh needs --bundle, and bundle.sh names the --cuda choices', () => {
    expect(run('bash', ['scripts/gpu/run-bundle.sh']).out).toContain('--bundle DIR is required');
    const wrong = run('bash', ['scripts/gpu/bundle.sh', '--cuda', 'some']);
    expect(wrong.status).toBe(1);
    expect(wrong.out).toContain("--cuda takes full or runtime-only, not 'some'");
  });
});
