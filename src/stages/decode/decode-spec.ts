import { PREPROCESSING_PRESETS, type ResizeKernel } from '../../embedding/preprocessing-presets.ts';
import { TemiError } from '../../runtime/contracts/index.ts';

export type Fit = 'cover' | 'contain' | 'fill';
export type PixelLayout = 'hwc' | 'chw';
/** Value range shorthands; each is a mean/std on the [0, 1] scale. */
export type PixelRange = '0..1' | '-1..1' | '0..255';

/** Everything the decode stage needs to turn an image into a model's input. */
export interface DecodeSpec {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly fit: Fit;
  /** Per channel, on the [0, 1] scale: value = (byte / 255 - mean[c]) / std[c]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly layout: PixelLayout;
  /** Raw pixel rows (IDX) keep their own width and height; only encoded images take width/height. */
  readonly rawAtOwnSize: boolean;
  /** sharp's resize kernel; lanczos3 when absent. */
  readonly kernel?: ResizeKernel;
  /** With fit cover: resize as torchvision's Resize(floor(size / crop)) then CenterCrop(size); absent: sharp's own cover. */
  readonly crop?: number;
}

export interface DecodePreset {
  readonly size: number;
  readonly channels: 1 | 3;
  readonly fit: Fit;
  readonly range: PixelRange;
  readonly layout: PixelLayout;
  readonly about: string;
  /** Raw pixel rows pass through at their own size unless size/width/height are given. */
  readonly rawAtOwnSize?: boolean;
  readonly kernel?: ResizeKernel;
  readonly crop?: number;
  /** Per channel; win over `range`. */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly patch?: number;
}

/**
 * Model presets. The MobileNetV2 and InceptionV3 graphs that TF.js runs here (nsfwjs's, and
 * TF-Hub's image feature vectors) take RGB in [0, 1]: nsfwjs divides by 255 and nothing else.
 * `-1..1` is there for Keras-application exports that expect `preprocess_input` scaling.
 */
export const DECODE_PRESETS = {
  'mobilenet-v2': { size: 224, channels: 3, fit: 'cover', range: '0..1', layout: 'hwc', about: '224x224 RGB in [0, 1], centre crop (MobileNetV2 as TF.js/nsfwjs run it)' },
  'inception-v3': { size: 299, channels: 3, fit: 'cover', range: '0..1', layout: 'hwc', about: '299x299 RGB in [0, 1], centre crop (InceptionV3 as nsfwjs runs it)' },
  mnist: { size: 28, channels: 1, fit: 'cover', range: '0..1', layout: 'hwc', about: '28x28 grayscale in [0, 1] (MNIST family; IDX rows pass through at their own size, e.g. 8x8 digits stay 64 values, unless size/width/height are given)', rawAtOwnSize: true },
  // PyTorch exporters' preprocessing (src/embedding/preprocessing-presets.ts), for ONNX models.
  imagenet: { ...PREPROCESSING_PRESETS.imagenet, channels: 3, fit: 'cover', range: '0..1' },
  clip: { ...PREPROCESSING_PRESETS.clip, channels: 3, fit: 'cover', range: '0..1' },
  dinov2: { ...PREPROCESSING_PRESETS.dinov2, channels: 3, fit: 'cover', range: '0..1' },
} as const satisfies Record<string, DecodePreset>;

export type DecodePresetName = keyof typeof DECODE_PRESETS;

const RANGES: Record<PixelRange, { mean: number; std: number }> = {
  '0..1': { mean: 0, std: 1 },
  '-1..1': { mean: 0.5, std: 0.5 },
  '0..255': { mean: 0, std: 1 / 255 },
};

export interface DecodeOverrides {
  readonly preset: DecodePresetName;
  readonly size?: number;
  readonly width?: number;
  readonly height?: number;
  readonly channels?: 1 | 3;
  readonly fit?: Fit;
  readonly range?: PixelRange;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly layout?: PixelLayout;
  readonly kernel?: ResizeKernel;
  readonly crop?: number;
}

/** The preset with the user's overrides applied; explicit mean/std win over `range`. */
export function resolveDecodeSpec(config: DecodeOverrides): DecodeSpec {
  const preset: DecodePreset = DECODE_PRESETS[config.preset];
  const channels = config.channels ?? preset.channels;
  const range = RANGES[config.range ?? preset.range];
  // A preset's own per-channel mean/std hold unless the user names a range or channels of their own.
  const ownScale = config.range === undefined && config.channels === undefined;
  const size = config.size ?? preset.size;
  const width = config.width ?? size;
  const height = config.height ?? size;
  if (preset.patch !== undefined && (width % preset.patch !== 0 || height % preset.patch !== 0)) {
    throw new TemiError('TS_ERR_DECODE_CONFIG', `preset "${config.preset}" is for patch-${preset.patch} models: ${width}x${height} is not a multiple of ${preset.patch} (e.g. ${Math.round(width / preset.patch) * preset.patch})`, {
      where: config.size !== undefined ? 'size' : 'width',
    });
  }
  return {
    width,
    height,
    channels,
    fit: config.fit ?? preset.fit,
    mean: perChannel('mean', config.mean ?? (ownScale && preset.mean ? preset.mean : [range.mean]), channels),
    std: perChannel('std', config.std ?? (ownScale && preset.std ? preset.std : [range.std]), channels),
    layout: config.layout ?? preset.layout,
    rawAtOwnSize: preset.rawAtOwnSize === true && config.size === undefined && config.width === undefined && config.height === undefined,
    kernel: config.kernel ?? preset.kernel,
    crop: config.crop ?? preset.crop,
  };
}

function perChannel(name: 'mean' | 'std', values: readonly number[], channels: number): number[] {
  if (values.length !== 1 && values.length !== channels) {
    const wanted = channels === 1 ? '1 value (one output channel)' : `1 or ${channels} values (one per output channel)`;
    throw new TemiError('TS_ERR_DECODE_CONFIG', `"${name}" needs ${wanted}, found ${values.length}`, { where: name });
  }
  if (name === 'std' && values.some((v) => v === 0)) throw new TemiError('TS_ERR_DECODE_CONFIG', '"std" values must not be 0', { where: name });
  return values.length === 1 ? Array.from({ length: channels }, () => values[0]) : [...values];
}
