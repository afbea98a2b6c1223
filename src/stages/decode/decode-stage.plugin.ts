import { filter, type OperatorFunction } from 'rxjs';
import { definePlugin, type StreamRecord, services, TemiError, errorCode, reasonOf, s } from '../../runtime/contracts/index.ts';
import { decodeImage, DECODABLE_FORMATS, reshapeRaw, type DecodableFormat, type DecodeLimits, type DecodeOptions } from './decode-image.ts';
import { DECODE_PRESETS, resolveDecodeSpec, type DecodePresetName, type DecodeSpec } from './decode-spec.ts';
import { normalisePixels, type NormalisedPixels } from './normalise-pixels.ts';
import { orderedConcurrentMap } from '../../runtime/operators/index.ts';
import { isRawPixels, type RawPixels } from './raw-pixels.ts';
import { DecodeScratch, fastDecode } from './fast-decode.ts';
import { nativeDecodeStatus } from './native-decode.ts';
import { DecodePool } from './worker/decode-pool.ts';
import type { DecodeAnswer } from './worker/decode-worker-protocol.ts';

const presetNames = Object.keys(DECODE_PRESETS) as DecodePresetName[];

export const decodeConfigSchema = s.object({
  preset: s.enum(presetNames, {
    default: 'mobilenet-v2',
    description: `Model input preset: ${presetNames.map((n) => `"${n}" ${DECODE_PRESETS[n].about}`).join('; ')}. The options below override it.`,
  }),
  size: s.optional(s.integer({ min: 1, max: 8192, description: 'Output width and height in pixels.' })),
  width: s.optional(s.integer({ min: 1, max: 8192, description: 'Output width (wins over size).' })),
  height: s.optional(s.integer({ min: 1, max: 8192, description: 'Output height (wins over size).' })),
  channels: s.optional(s.enum([1, 3] as const, { description: '1 = grayscale, 3 = RGB (in that order).' })),
  fit: s.optional(s.enum(['cover', 'contain', 'fill'] as const, { description: 'cover: scale and centre-crop; contain: scale and letterbox on black; fill: stretch.' })),
  range: s.optional(s.enum(['0..1', '-1..1', '0..255'] as const, { description: 'Output value range; shorthand for mean/std.' })),
  mean: s.optional(s.array(s.number(), { minItems: 1, description: 'Per-channel mean on the [0, 1] scale (1 value or one per channel); value = (byte/255 - mean) / std.' })),
  std: s.optional(s.array(s.number({ exclusiveMin: 0 }), { minItems: 1, description: 'Per-channel standard deviation on the [0, 1] scale.' })),
  layout: s.optional(s.enum(['hwc', 'chw'] as const, { description: 'Order of payload.pixels.data: hwc (TF.js) or chw (PyTorch-style exports).' })),
  kernel: s.optional(
    s.enum(['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'] as const, { description: 'Resize kernel (sharp/libvips): linear and cubic as bilinear and bicubic in torchvision; default lanczos3 unless the preset names one.' }),
  ),
  crop: s.optional(
    s.number({ min: 0.1, max: 1, description: 'With fit cover: share of the resized shorter side kept by the centre crop (timm crop_pct): resize to floor(size / crop), then cut the centre size x size. 1 = resize straight to size.' }),
  ),
  maxPixels: s.integer({ min: 1, default: 50_000_000, description: 'Images whose header declares more pixels are dead-lettered unread (decompression bombs).' }),
  formats: s.array(s.enum(DECODABLE_FORMATS), { minItems: 1, default: ['jpeg', 'png', 'webp'] as DecodableFormat[], description: 'Encoded formats accepted (detected from the content, not a file name).' }),
  failOn: s.enum(['none', 'truncated', 'error', 'warning'] as const, {
    default: 'warning',
    description: 'How strict decoding is: "warning" (default) dead-letters truncated or damaged data; "none" decodes what it can.',
  }),
  decoder: s.enum(['auto', 'sharp'] as const, {
    default: 'auto',
    description:
      '"auto": small 8-bit grey/RGB/palette PNGs (up to 256x256, no transparency or colour profile) and, where `npm run setup` built the native addon, grey/colour JPEGs up to 512x512 (no colour profile or EXIF rotation; libjpeg-turbo) are decoded and resized with the same result as sharp, without the per-image setup of libvips (per CPU-second, with the native addon: a 45x45 PNG ~70x the images, a 45x45 JPEG ~45x, a 256x256 JPEG to 224 ~3-4x; bench:decode); everything else with sharp. "sharp": everything with sharp.',
  }),
  concurrency: s.integer({ min: 1, max: 64, default: 4, description: 'Images decoded at once; records still leave in arrival order.' }),
  threads: s.integer({
    min: 0,
    max: 32,
    default: 0,
    description:
      'Worker threads for the fast path (decoder "auto"), so encoded images decode on several cores while the pipeline\'s thread does the rest; 0 decodes on the pipeline\'s thread. Worth it where cores are spare, e.g. a model on a GPU (a thread decodes ~1,000 256x256 JPEGs to 224 a second, bench:decode); on a CPU model they take time from the model. With threads, at least 4 images per thread are decoded at once.',
  }),
  keepInput: s.boolean({ default: true, description: 'Keep payload.bytes / payload.rawPixels after decoding (dead letters downstream can then carry the original).' }),
});

export const decodeStagePlugin = definePlugin({
  name: 'decode',
  kind: 'stage',
  description:
    'Decodes payload.bytes (JPEG/PNG/WebP, via sharp) or takes payload.rawPixels (IDX rows), resizes, converts to grayscale or RGB and normalises per model preset into payload.pixels (Float32). Empty, damaged, unrecognised and over-sized images go to dead letters (TS_ERR_DECODE_*).',
  configSchema: decodeConfigSchema,
  needs: { payload: ['bytes', 'rawPixels'] },
  provides: { payload: ['pixels'] },
  deps: { deadLetters: services.deadLetters, metrics: services.metrics, logger: services.logger, pixelBuffers: services.pixelBuffers },
  create({ config, deps, instanceName }) {
    const spec = resolveDecodeSpec(config);
    const threads = config.decoder === 'sharp' ? 0 : config.threads;
    let pool: DecodePool | undefined;
    const limits: DecodeLimits = { maxPixels: config.maxPixels, formats: config.formats, failOn: config.failOn };
    const options: DecodeOptions = { decoder: config.decoder };
    // The fast path's intermediate images, reused: each is normalised before the next decode.
    const scratch = new DecodeScratch();
    // What a decode thread writes: the fast path only takes images it brings to the spec's size.
    const outputLength = spec.width * spec.height * spec.channels;
    const seconds = deps.metrics.histogram('temi_decode_seconds', 'Time to decode, resize and normalise one image', ['stage'], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    deps.logger.debug('decode spec', { stage: instanceName, ...spec });

    const finish = (record: StreamRecord, raw: RawPixels, started: number): StreamRecord => settle(record, normalisePixels(raw, spec, deps.pixelBuffers.take(raw.data.length)), started);
    const settle = (record: StreamRecord, pixels: NormalisedPixels, started: number): StreamRecord => {
      record.payload.pixels = pixels;
      if (!config.keepInput) {
        delete record.payload.bytes;
        delete record.payload.rawPixels;
      }
      seconds.observe((performance.now() - started) / 1000, { stage: instanceName });
      return record;
    };

    // The async path (sharp, or a failure to dead-letter): the fast path was already tried by `decode`.
    const viaSharp: DecodeOptions = { decoder: 'sharp' };
    const guarded = async (record: StreamRecord, started: number): Promise<StreamRecord | null> => {
      try {
        return finish(record, await rawPixelsOf(record, spec, limits, viaSharp), started);
      } catch (error) {
        // A failure dead-letters that record alone (as perRecord does) while others decode alongside it.
        await deps.deadLetters.send({ record, stage: instanceName, code: errorCode(error), reason: reasonOf(error) });
        return null;
      }
    };

    // On a decode thread: what its fast path leaves (null), or a thread lost, goes to sharp here.
    const offThread = async (record: StreamRecord, bytes: Uint8Array, started: number): Promise<StreamRecord | null> => {
      let pixels: DecodeAnswer = null;
      const into = deps.pixelBuffers.take(outputLength, { shared: true });
      try {
        pixels = await pool!.decode(bytes, into);
        // Declined by the fast path: the thread never wrote into it.
        if (!pixels) deps.pixelBuffers.give(into);
      } catch {
        // The pool's threads have stopped (a crash, or the stage stopping): sharp still decodes it.
        // The buffer is not given back: a thread stopping may not be done with it.
      }
      return pixels ? settle(record, pixels, started) : guarded(record, started);
    };

    // Synchronous when the image needs no sharp: no promise, and the record leaves at once when nothing before it is pending.
    const decode = (record: StreamRecord): StreamRecord | null | Promise<StreamRecord | null> => {
      const started = performance.now();
      if (options.decoder === 'sharp') return guarded(record, started);
      const { bytes } = record.payload;
      if (pool && bytes instanceof Uint8Array && bytes.length > 0) return offThread(record, bytes, started);
      const raw = immediatePixels(record, spec, limits, scratch);
      return raw ? finish(record, raw, started) : guarded(record, started);
    };

    // Each thread needs images queued behind the one it decodes, or it idles for a round trip.
    const concurrency = Math.max(config.concurrency, 4 * threads);
    const operator: OperatorFunction<StreamRecord, StreamRecord> = (source) =>
      source.pipe(
        orderedConcurrentMap(concurrency, decode),
        filter((r): r is StreamRecord => r !== null),
      );
    return {
      operator,
      async start() {
        if (threads > 0) pool = await DecodePool.start(threads, { spec, maxPixels: config.maxPixels, formats: config.formats });
        // Without the native addon JPEGs cost sharp's ~3 ms each: say so, with what fixes it.
        if (options.decoder !== 'sharp') {
          deps.logger.info(`decode fast path: ${pool ? `${pool.fastPath}, on ${pool.threads} worker thread${pool.threads === 1 ? '' : 's'}` : nativeDecodeStatus()}`, { stage: instanceName });
        }
      },
      async stop() {
        await pool?.close();
        pool = undefined;
      },
    };
  },
});

/**
 * The record's pixels when they need no sharp and no wait: a PNG the fast path takes, or raw pixels
 * (IDX rows) already at the target size. Undefined otherwise, and for anything wrong (the async
 * path then produces the dead letter).
 */
function immediatePixels(record: StreamRecord, spec: DecodeSpec, limits: DecodeLimits, scratch: DecodeScratch): RawPixels | undefined {
  const { bytes, rawPixels } = record.payload;
  if (bytes instanceof Uint8Array) return bytes.length > 0 ? fastDecode(bytes, spec, limits.maxPixels, limits.formats, scratch) : undefined;
  if (!isRawPixels(rawPixels) || !(rawPixels.width > 0 && rawPixels.height > 0) || rawPixels.width * rawPixels.height > limits.maxPixels) return undefined;
  const width = spec.rawAtOwnSize ? rawPixels.width : spec.width;
  const height = spec.rawAtOwnSize ? rawPixels.height : spec.height;
  return rawPixels.width === width && rawPixels.height === height && rawPixels.channels === spec.channels ? rawPixels : undefined;
}

async function rawPixelsOf(record: StreamRecord, spec: DecodeSpec, limits: DecodeLimits, options: DecodeOptions) {
  const { bytes, rawPixels } = record.payload;
  if (bytes instanceof Uint8Array) return decodeImage(bytes, spec, limits, record.key, options);
  if (isRawPixels(rawPixels)) return reshapeRaw(rawPixels, spec.rawAtOwnSize ? { ...spec, width: rawPixels.width, height: rawPixels.height } : spec, limits.maxPixels, record.key);
  throw new TemiError('TS_ERR_DECODE_NO_INPUT', 'the record has neither payload.bytes (an encoded image) nor payload.rawPixels to decode', { where: record.key });
}
