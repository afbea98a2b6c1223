import sharp from 'sharp';

/** A seeded PRNG (mulberry32): the same corpus on every run, so a failure reproduces. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type InputKind =
  | 'valid' | 'bit-flip' | 'byte-insert' | 'byte-delete' | 'truncated' | 'zero-byte' | 'random-bytes'
  | 'wrong-format' | 'bomb' | 'bad-envelope' | 'nan-embedding' | 'inf-embedding' | 'oversized';

export interface HostileInput {
  /** 1-based line of the replay file: the one identity every outcome (written or dead-lettered) carries. */
  readonly line: number;
  readonly kind: InputKind;
  readonly text: string;
}

export interface BaseImages {
  readonly valid: Buffer[];
  readonly otherFormats: Buffer[];
  readonly bomb: Buffer;
}

/** Small real PNG/JPEG/WebP images, other formats (GIF, TIFF) and one decompression bomb. */
export async function makeBaseImages(random: () => number): Promise<BaseImages> {
  const valid: Buffer[] = [];
  const otherFormats: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const side = 8 + Math.floor(random() * 25);
    const raw = Buffer.alloc(side * side * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = Math.floor(random() * 256);
    const image = () => sharp(raw, { raw: { width: side, height: side, channels: 3 } });
    valid.push(await image().png().toBuffer(), await image().jpeg().toBuffer(), await image().webp().toBuffer());
    otherFormats.push(await image().gif().toBuffer(), await image().tiff().toBuffer());
  }
  // 4,000 x 4,000 black pixels compress to a few KB of PNG: 16 M pixels declared, far over maxPixels.
  const bomb = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).greyscale().png({ compressionLevel: 9 }).toBuffer();
  return { valid, otherFormats, bomb };
}

const KINDS: readonly InputKind[] = [
  'valid', 'valid', 'bit-flip', 'bit-flip', 'byte-insert', 'byte-delete', 'truncated', 'zero-byte', 'random-bytes',
  'wrong-format', 'bomb', 'bad-envelope', 'bad-envelope', 'nan-embedding', 'inf-embedding',
];

const BAD_ENVELOPES: readonly ((id: string, image: string) => string)[] = [
  (id, image) => JSON.stringify({ id, image }).slice(0, -7),
  (id) => JSON.stringify({ id }),
  (_id, image) => JSON.stringify({ image }),
  (id, image) => JSON.stringify([id, image]),
  (id, image) => JSON.stringify({ id, image, label: -3 }),
  (id, image) => JSON.stringify({ id, image, label: 'shirt' }),
  (id) => JSON.stringify({ id, image: '%%% not base64 %%%' }),
  (id, image) => JSON.stringify({ id: { nested: id }, image }),
  () => 'null',
  () => '42',
  () => '{"id": "unterminated',
  (id, image) => `${JSON.stringify({ id, image })}}`,
];

/** `count` envelopes cycling through every kind of hostile input, plus a few oversized ones. */
export function makeHostileInputs(count: number, base: BaseImages, random: () => number): HostileInput[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const inputs: HostileInput[] = [];
  for (let i = 0; i < count; i++) {
    const line = i + 1;
    const kind: InputKind = line % 2500 === 0 ? 'oversized' : KINDS[i % KINDS.length];
    const id = `${kind}-${line}`;
    const envelope = (bytes: Buffer) => JSON.stringify({ id, image: bytes.toString('base64'), label: line % 10 });
    const source = Buffer.from(pick(base.valid));
    let text: string;
    switch (kind) {
      case 'valid':
      case 'nan-embedding':
      case 'inf-embedding':
        text = envelope(source);
        break;
      case 'bit-flip': {
        const flips = 1 + Math.floor(random() * 8);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(random() * source.length);
          source[at] ^= 1 << Math.floor(random() * 8);
        }
        text = envelope(source);
        break;
      }
      case 'byte-insert': {
        const at = Math.floor(random() * source.length);
        const extra = Buffer.alloc(1 + Math.floor(random() * 16));
        for (let b = 0; b < extra.length; b++) extra[b] = Math.floor(random() * 256);
        text = envelope(Buffer.concat([source.subarray(0, at), extra, source.subarray(at)]));
        break;
      }
      case 'byte-delete': {
        const at = Math.floor(random() * source.length);
        text = envelope(Buffer.concat([source.subarray(0, at), source.subarray(at + 1 + Math.floor(random() * 16))]));
        break;
      }
      case 'truncated':
        text = envelope(source.subarray(0, Math.floor(random() * source.length)));
        break;
      case 'zero-byte':
        text = envelope(Buffer.alloc(0));
        break;
      case 'random-bytes': {
        const bytes = Buffer.alloc(1 + Math.floor(random() * 2048));
        for (let b = 0; b < bytes.length; b++) bytes[b] = Math.floor(random() * 256);
        text = envelope(bytes);
        break;
      }
      case 'wrong-format':
        text = envelope(pick(base.otherFormats));
        break;
      case 'bomb':
        text = envelope(base.bomb);
        break;
      case 'bad-envelope':
        text = pick(BAD_ENVELOPES)(id, source.toString('base64'));
        break;
      case 'oversized': {
        // 8 MiB of noise: far more than any image in the stream, and no image at all.
        const bytes = Buffer.alloc(8 * 1024 * 1024);
        for (let b = 0; b < bytes.length; b += 4) bytes.writeUInt32LE(Math.floor(random() * 2 ** 32), b);
        text = envelope(bytes);
        break;
      }
    }
    inputs.push({ line, kind, text });
  }
  return inputs;
}
