/**
 * Decode alone: how many small images the decode stage's decodeImage turns into model input per
 * second, one at a time on the main thread (the stage runs several at once; this measures the cost
 * of one), and per CPU-second of the whole process (libvips' threads included), i.e. per core.
 *
 *   npm run bench:decode [-- --seconds 3 --rounds 3]
 *
 * Sets (40 distinct images each, made here with sharp): the bench:kafka messages (45x45 grey noise
 * PNG, ~2 KiB, and 256x256, ~64 KiB, which libvips box-shrinks before its reduce), a 32x32 RGB noise PNG (3 KiB), a 48x48 palette PNG, a 45x45 grey JPEG and a 64x64
 * RGB JPEG (quality 90); targets: mnist (28x28 grey, lanczos3) and, for the colour sets, 28x28 RGB;
 * and bench:embed's 256x256 RGB noise JPEG and a photo-like 320x240 JPEG to MobileNetV2's 224x224.
 * Each set runs with the stage's default decoder (`auto`: the fast path where it applies) and with
 * `decoder: "sharp"`, alternating, and prints images/s (wall), images per CPU-second and the ratio
 * auto / sharp per CPU-second; asserts nothing. The first line says whether the native addon
 * (JPEGs, the native reduce) is in use: TEMI_NATIVE_DECODE=off measures the JavaScript-only path.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { photoLike } from './bench-images.ts';
import { decodeImage, type DecodeLimits } from '../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec, type DecodeOverrides } from '../src/stages/decode/decode-spec.ts';
import { nativeDecodeStatus } from '../src/stages/decode/native-decode.ts';
import { option } from './bench-support.ts';

const SECONDS = Number(option('seconds', '3'));
const ROUNDS = Number(option('rounds', '3'));
const DISTINCT = 40;
const limits: DecodeLimits = { maxPixels: 50_000_000, formats: ['jpeg', 'png', 'webp'], failOn: 'warning' };

interface DecodeSet {
  readonly name: string;
  readonly images: Buffer[];
  readonly target: DecodeOverrides;
}

async function many(make: () => Promise<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < DISTINCT; i++) out.push(await make());
  return out;
}

const grey = (side: number) => sharp(randomBytes(side * side), { raw: { width: side, height: side, channels: 1 } }).toColourspace('b-w');
const rgb = (side: number) => sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } });

async function sets(): Promise<DecodeSet[]> {
  const mnist: DecodeOverrides = { preset: 'mnist' };
  const rgb28: DecodeOverrides = { preset: 'mobilenet-v2', size: 28 };
  return [
    { name: 'PNG grey 45x45 (bench:kafka 2 KiB) -> mnist', images: await many(() => grey(45).png({ compressionLevel: 1 }).toBuffer()), target: mnist },
    { name: 'PNG grey 256x256 (bench:kafka 64 KiB) -> mnist', images: await many(() => grey(256).png({ compressionLevel: 1 }).toBuffer()), target: mnist },
    { name: 'PNG grey 28x28 -> mnist (no resize)', images: await many(() => grey(28).png().toBuffer()), target: mnist },
    { name: 'PNG RGB 32x32 -> 28x28 RGB', images: await many(() => rgb(32).png().toBuffer()), target: rgb28 },
    { name: 'PNG palette 48x48 -> 28x28 RGB', images: await many(() => rgb(48).png({ palette: true, colours: 64 }).toBuffer()), target: rgb28 },
    { name: 'PNG RGB 32x32 -> mnist (grey)', images: await many(() => rgb(32).png().toBuffer()), target: mnist },
    { name: 'JPEG grey 45x45 -> mnist', images: await many(() => grey(45).jpeg({ quality: 90 }).toBuffer()), target: mnist },
    { name: 'JPEG RGB 64x64 -> 28x28 RGB', images: await many(() => rgb(64).jpeg({ quality: 90 }).toBuffer()), target: rgb28 },
    { name: 'JPEG RGB 256x256 (bench:embed) -> 224 RGB', images: await many(() => rgb(256).jpeg({ quality: 90 }).toBuffer()), target: { preset: 'mobilenet-v2' } },
    { name: 'JPEG photo-like 320x240 -> 224 RGB', images: await many(() => photoLike(320, 240).jpeg({ quality: 85 }).toBuffer()), target: { preset: 'mobilenet-v2' } },
  ];
}

type Decoder = 'auto' | 'sharp';

/** One timed round: images decoded one after another for SECONDS; wall and CPU rates. */
async function round(set: DecodeSet, decoder: Decoder): Promise<{ wall: number; cpu: number; bytes: number }> {
  const spec = resolveDecodeSpec(set.target);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    for (let i = 0; i < 50; i++, n++) await decodeImage(set.images[n % set.images.length], spec, limits, 'bench', { decoder });
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const meanBytes = set.images.reduce((s, b) => s + b.length, 0) / set.images.length;
  return { wall: n / wall, cpu: n / ((cpu.user + cpu.system) / 1e6), bytes: meanBytes };
}

async function main(): Promise<void> {
  console.log(`decode alone, one image at a time, ${ROUNDS} rounds of ${SECONDS} s each per decoder, alternating (best round shown; CPU = the whole process, libvips threads included)`);
  console.log(`decode fast path: ${nativeDecodeStatus()}`);
  for (const set of await sets()) {
    const spec = resolveDecodeSpec(set.target);
    for (const decoder of ['auto', 'sharp'] as const) {
      for (let i = 0; i < 200; i++) await decodeImage(set.images[i % set.images.length], spec, limits, 'warm-up', { decoder });
    }
    const results: Record<Decoder, Awaited<ReturnType<typeof round>>[]> = { auto: [], sharp: [] };
    for (let r = 0; r < ROUNDS; r++) for (const decoder of ['auto', 'sharp'] as const) results[decoder].push(await round(set, decoder));
    const best = (decoder: Decoder) => results[decoder].reduce((a, b) => (b.wall > a.wall ? b : a));
    const line = (decoder: Decoder) => {
      const b = best(decoder);
      return `${decoder.padEnd(5)} ${b.wall.toFixed(0).padStart(6)} images/s, ${b.cpu.toFixed(0).padStart(6)} per CPU-s (rounds: ${results[decoder].map((x) => x.wall.toFixed(0)).join(', ')})`;
    };
    console.log(`${set.name.padEnd(44)} ${(best('auto').bytes / 1024).toFixed(1).padStart(5)} KiB: ${line('auto')}`);
    console.log(`${''.padEnd(44)}            ${line('sharp')}; auto / sharp per CPU-s: ${(best('auto').cpu / best('sharp').cpu).toFixed(1)}x`);
  }
}

await main();
