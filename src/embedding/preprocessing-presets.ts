/**
 * Preprocessing that matches the common PyTorch exporters, so an exported encoder sees the
 * pixels it was trained on. Each says how the image is resized and cropped and how values are
 * scaled; the decode stage applies them (its presets of the same names).
 *
 * Resize then crop, as torchvision's Resize(floor(size / crop)) + CenterCrop(size): the shorter
 * side is scaled to floor(size / crop) with the named kernel (aspect kept), then the centre
 * size x size is cut out. crop 1 scales the shorter side straight to size. Kernels are libvips's
 * (sharp): when shrinking (photos larger than the resize), "linear" and "cubic" come within 3
 * 8-bit steps per value (0.1 on average) of torchvision's antialiased bilinear and bicubic
 * Resize, not bit for bit (test/embedding/preprocessing-presets.spec.ts). Enlarging a smaller
 * image follows libvips's interpolator and differs more.
 */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

export interface PreprocessingPreset {
  /** Output width = height in pixels. */
  readonly size: number;
  readonly kernel: ResizeKernel;
  /** Share of the resized shorter side kept by the centre crop (timm's crop_pct). */
  readonly crop: number;
  /** Per RGB channel, on the [0, 1] scale: value = (byte / 255 - mean) / std. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly layout: 'chw';
  /** Vision transformers with this patch size need width and height that are multiples of it. */
  readonly patch?: number;
  readonly about: string;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export const PREPROCESSING_PRESETS = {
  imagenet: {
    size: 224,
    kernel: 'linear',
    crop: 0.875,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    layout: 'chw',
    about: '224x224 RGB, ImageNet mean/std, CHW; bilinear resize of the shorter side to 256, centre crop 224 (torchvision ResNet/ConvNeXt weights, timm crop_pct 0.875)',
  },
  clip: {
    size: 224,
    kernel: 'cubic',
    crop: 1,
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
    layout: 'chw',
    about: "224x224 RGB, CLIP's mean/std, CHW; bicubic resize of the shorter side to 224, centre crop (OpenAI CLIP / open_clip ViT-B/32 and ViT-B/16 image towers)",
  },
  dinov2: {
    size: 224,
    kernel: 'cubic',
    crop: 0.875,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    layout: 'chw',
    patch: 14,
    about: '224x224 RGB (16x16 patches of 14), ImageNet mean/std, CHW; bicubic resize of the shorter side to 256, centre crop 224 (DINOv2 ViT-S/14 .. ViT-g/14); sizes must be multiples of 14',
  },
} as const satisfies Record<string, PreprocessingPreset>;

export type PreprocessingPresetName = keyof typeof PREPROCESSING_PRESETS;

/**
 * torchvision's Resize(floor(size / crop)) + CenterCrop(size) as numbers, for a source image of
 * sourceWidth x sourceHeight: the shorter side (relative to the target) becomes floor(target /
 * crop), the other is truncated as torchvision does (int()), and the crop offsets round half to
 * even as Python's round() does. Exact sizes and offsets matter: one pixel off shifts every value.
 */
export function resizeThenCrop(sourceWidth: number, sourceHeight: number, width: number, height: number, crop: number) {
  const scaledWidth = Math.floor(width / crop);
  const scaledHeight = Math.floor(height / crop);
  const widthLimits = scaledWidth / sourceWidth >= scaledHeight / sourceHeight;
  const resizeWidth = widthLimits ? scaledWidth : Math.max(scaledWidth, Math.trunc((sourceWidth * scaledHeight) / sourceHeight));
  const resizeHeight = widthLimits ? Math.max(scaledHeight, Math.trunc((sourceHeight * scaledWidth) / sourceWidth)) : scaledHeight;
  return { resizeWidth, resizeHeight, left: roundHalfEven((resizeWidth - width) / 2), top: roundHalfEven((resizeHeight - height) / 2) };
}

function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const rest = v - floor;
  if (rest !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}
