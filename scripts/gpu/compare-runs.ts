/**
 * Prints GPU / CPU ratios from the JSON files scripts/gpu/check.sh has the benches write:
 *   npx tsx scripts/gpu/compare-runs.ts <runs dir> [why the GPU side is missing]
 * embed-cpu.json / embed-gpu.json (bench:embed --json), train-cpu.json / train-gpu.json (bench:train --json).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface EmbedRun {
  rows: { engine: string; batch: number; imagesPerSecond?: number; note?: string }[];
}
interface TrainRun {
  tfjs: { requested: string; backend: string; samplesPerSecond: number }[];
}

const [dir, missingReason = 'no GPU figures'] = process.argv.slice(2);
const read = <T>(name: string): T | undefined => {
  const file = path.join(dir, name);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
};

const embedCpu = read<EmbedRun>('embed-cpu.json');
const embedGpu = read<EmbedRun>('embed-gpu.json');
const trainCpu = read<TrainRun>('train-cpu.json');
const trainGpu = read<TrainRun>('train-gpu.json');

const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));
console.log('');
console.log('MobileNetV2-224 embedding (images/s; the model as one TensorFlow session per batch):');
console.log('  batch   tensorflow (CPU)   tensorflow-gpu   GPU / CPU');
const rate = (run: EmbedRun | undefined, batch: number) => run?.rows.find((r) => r.batch === batch && r.engine.startsWith('tfjs') && r.imagesPerSecond !== undefined)?.imagesPerSecond;
for (const batch of [...new Set((embedCpu?.rows ?? []).map((r) => r.batch))].filter((b) => b > 0)) {
  const cpu = rate(embedCpu, batch);
  const gpu = rate(embedGpu, batch);
  console.log(`  ${String(batch).padStart(5)} ${fmt(cpu).padStart(18)} ${fmt(gpu).padStart(16)} ${cpu && gpu ? `${(gpu / cpu).toFixed(2)}x`.padStart(11) : '          -'}`);
}
const cpuTrain = trainCpu?.tfjs[0]?.samplesPerSecond;
const gpuTrain = trainGpu?.tfjs[0]?.samplesPerSecond;
console.log('');
console.log('TEMI training step (anchors/s; 16 heads, D=784, batch 256):');
console.log(`  tensorflow (CPU) ${fmt(cpuTrain)}   tensorflow-gpu ${fmt(gpuTrain)}   GPU / CPU ${cpuTrain && gpuTrain ? `${(gpuTrain / cpuTrain).toFixed(2)}x` : '-'}`);
if (!embedGpu || !trainGpu) console.log(`\ntensorflow-gpu: no figures: ${missingReason}`);
