/**
 * Prints GPU / CPU and tfjs / PyTorch ratios from the files scripts/gpu/measure.sh has the benches write:
 *   npx tsx scripts/gpu/compare-runs.ts <runs dir> [why the GPU side is missing]
 * embed-cpu.json / embed-gpu.json (bench:embed --json), train-cpu.json / train-gpu.json (bench:train --json),
 * torch-embed-gpu.jsonl / torch-train-gpu.json (bench/reference/*_torch.py --device cuda), pipeline-gpu.json
 * and pipeline-gpu-threads.json (bench:embed's pipeline and --host-path rows on tensorflow-gpu, with
 * the decode stage's default threads and with 4), each optional.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface EmbedRun {
  rows: { engine: string; batch: number; imagesPerSecond?: number; note?: string; bare?: number }[];
}
interface TrainRun {
  tfjs: { requested: string; backend: string; samplesPerSecond: number }[];
}

const [dir, missingReason = 'no GPU figures'] = process.argv.slice(2);
/** A file's JSON lines (one object per line), or undefined when it is absent or empty. */
const readLines = <T>(name: string): T[] | undefined => {
  const file = path.join(dir, name);
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim().startsWith('{'));
  return lines.length > 0 ? lines.map((line) => JSON.parse(line) as T) : undefined;
};
const read = <T>(name: string): T | undefined => {
  const file = path.join(dir, name);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
};

const embedCpu = read<EmbedRun>('embed-cpu.json');
const embedGpu = read<EmbedRun>('embed-gpu.json');
const trainCpu = read<TrainRun>('train-cpu.json');
const trainGpu = read<TrainRun>('train-gpu.json');
const pipelineGpu = read<EmbedRun>('pipeline-gpu.json');
const pipelineGpuThreads = read<EmbedRun>('pipeline-gpu-threads.json');
const torchEmbed = readLines<{ batch: number; images_per_s: number; torch: string }>('torch-embed-gpu.jsonl');
const torchTrain = readLines<{ samplesPerSecond: number; torch: string }>('torch-train-gpu.json')?.[0];
const torchVersion = torchEmbed?.[0]?.torch ?? torchTrain?.torch;
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '-');

const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));
console.log('');
console.log('MobileNetV2-224 embedding (images/s; the model as one TensorFlow session per batch):');
console.log(`  batch   tensorflow (CPU)   tensorflow-gpu   GPU / CPU${torchEmbed ? `   PyTorch ${torchVersion} (GPU)   tensorflow-gpu / PyTorch` : ''}`);
const rate = (run: EmbedRun | undefined, batch: number) => run?.rows.find((r) => r.batch === batch && r.engine.startsWith('tfjs') && r.imagesPerSecond !== undefined)?.imagesPerSecond;
for (const batch of [...new Set((embedCpu?.rows ?? []).map((r) => r.batch))].filter((b) => b > 0)) {
  const cpu = rate(embedCpu, batch);
  const gpu = rate(embedGpu, batch);
  const torch = torchEmbed?.find((r) => r.batch === batch)?.images_per_s;
  const torchColumns = torchEmbed ? `${fmt(torch).padStart(18 + (torchVersion?.length ?? 0))} ${ratio(gpu, torch).padStart(26)}` : '';
  console.log(`  ${String(batch).padStart(5)} ${fmt(cpu).padStart(18)} ${fmt(gpu).padStart(16)} ${ratio(gpu, cpu).padStart(11)}${torchColumns}`);
}
const cpuTrain = trainCpu?.tfjs[0]?.samplesPerSecond;
const gpuTrain = trainGpu?.tfjs[0]?.samplesPerSecond;
console.log('');
console.log('TEMI training step (anchors/s; 16 heads, D=784, batch 256):');
console.log(`  tensorflow (CPU) ${fmt(cpuTrain)}   tensorflow-gpu ${fmt(gpuTrain)}   GPU / CPU ${ratio(gpuTrain, cpuTrain)}`);
if (torchTrain) console.log(`  PyTorch ${torchTrain.torch} (GPU) ${fmt(torchTrain.samplesPerSecond)}   tensorflow-gpu / PyTorch ${ratio(gpuTrain, torchTrain.samplesPerSecond)}`);
for (const [run, threads] of [
  [pipelineGpu, 'decode threads 0 (the stage\'s default)'],
  [pipelineGpuThreads, '4 decode threads'],
] as const) {
  const pipelineRows = (run?.rows ?? []).filter((r) => r.engine.startsWith('pipeline ') && r.imagesPerSecond !== undefined && r.bare);
  if (pipelineRows.length === 0) continue;
  console.log('');
  console.log(`The pipeline on tensorflow-gpu (decode + embed on its worker) / the bare model, same batch; ${threads}:`);
  for (const r of pipelineRows) {
    console.log(`  ${r.engine.split(' ')[1].padEnd(5)} batch ${String(r.batch).padStart(3)}: ${fmt(r.imagesPerSecond)} / ${fmt(r.bare)} images/s = ${ratio(r.imagesPerSecond, r.bare)}`);
  }
  const host = (run?.rows ?? []).filter((r) => r.engine.startsWith('host path ') && r.imagesPerSecond !== undefined);
  if (host.length > 0) console.log(`  host path (a near-free model): ${host.map((r) => `${r.engine.slice('host path '.length)} b${r.batch} ${fmt(r.imagesPerSecond)}`).join(', ')} images/s`);
}
if (!embedGpu || !trainGpu) console.log(`\ntensorflow-gpu: no figures: ${missingReason}`);
