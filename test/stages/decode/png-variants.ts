/**
 * PNGs of every kind decodeSimplePng meets, for checking that its two routes (the native addon's
 * libdeflate and node's zlib with JavaScript) accept and decode the same ones. Run as a script
 * (`node --import tsx test/stages/decode/png-variants.ts`) it prints the outcomes as JSON, so a
 * spec can compare them with another process's, where the addon is off.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeSimplePng } from '../../../src/stages/decode/simple-png.ts';
import { seededRandom } from '../../fuzz/hostile-inputs.ts';
import { PNG_SIGNATURE, pngChunk } from '../image-fixtures.ts';

/**
 * sharp's PNGs (grey and RGB, every compression level, with and without adaptive filtering, some
 * palette), grey PNGs made here (random filter types, some undefined; bytes after the zlib stream;
 * a truncated stream; the stream over two IDAT chunks), and each of sharp's with a few bits flipped.
 */
export async function pngVariants(count = 100): Promise<Buffer[]> {
  const random = seededRandom(71);
  const below = (n: number) => Math.floor(random() * n);
  const made: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const width = 1 + below(60);
    const height = 1 + below(60);
    const channels = random() < 0.5 ? 1 : 3;
    // Mostly smooth ramps (which compress with matches), some noise.
    const raw = Buffer.from(Array.from({ length: width * height * channels }, (_, j) => (random() < 0.7 ? (j * 13) % 256 : below(256))));
    const image = sharp(raw, { raw: { width, height, channels: channels as 1 | 3 } });
    made.push(await (channels === 1 ? image.toColourspace('b-w') : image).png({ compressionLevel: i % 10, adaptiveFiltering: i % 2 === 0, palette: i % 5 === 4 }).toBuffer());
  }
  const handMade: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const width = 1 + below(40);
    const height = 1 + below(40);
    const rows = Array.from({ length: height }, () => Buffer.from([below(i % 7 === 0 ? 6 : 5), ...Array.from({ length: width }, () => below(256))]));
    let stream = deflateSync(Buffer.concat(rows));
    if (i % 5 === 1) stream = Buffer.concat([stream, Buffer.from([1, 2, 3])]);
    if (i % 11 === 2) stream = stream.subarray(0, stream.length - 2);
    const header = Buffer.alloc(13);
    header.writeUInt32BE(width);
    header.writeUInt32BE(height, 4);
    header[8] = 8; // 8-bit grey
    const idat = i % 3 === 0 ? [stream.subarray(0, stream.length >> 1), stream.subarray(stream.length >> 1)] : [stream];
    handMade.push(Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), ...idat.map((part) => pngChunk('IDAT', part)), pngChunk('IEND', Buffer.alloc(0))]));
  }
  const damaged = made.map((png) => {
    const copy = Buffer.from(png);
    for (let flips = 1 + below(3); flips > 0; flips--) copy[below(copy.length)] ^= 1 << below(8);
    return copy;
  });
  return [...made, ...handMade, ...damaged];
}

/** Per PNG: "undefined", or the size and a digest of the pixels. */
export function outcomes(pngs: readonly Buffer[]): string[] {
  return pngs.map((png) => {
    const image = decodeSimplePng(png, 1e6);
    return image ? `${image.width}x${image.height}x${image.channels} ${createHash('sha256').update(image.data).digest('hex')}` : 'undefined';
  });
}

if (process.argv[1]?.endsWith('png-variants.ts')) console.log(JSON.stringify(outcomes(await pngVariants())));
