import type { MmdcTrunk } from './mmdc-config.ts';

/** A trainable tensor of the network, in TensorFlow's layout (conv filters [kh, kw, in, out], dense [in, out]). */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: 'conv' | 'dense' | 'ones' | 'zeros';
  /** Weight decay applies to weights only, not to 1-d parameters (biases, BN scales), as the official optimiser. */
  readonly decays: boolean;
}

export interface ConvSpec {
  readonly kind: 'conv';
  readonly weight: string;
  readonly stride: number;
  readonly kernel: number;
}
export interface BatchNormSpec {
  readonly kind: 'bn';
  /** Prefix of `${name}.gamma`, `${name}.beta` (trainable) and `${name}.mean`, `${name}.var` (running statistics). */
  readonly name: string;
  readonly channels: number;
}

/** What fixes a network's shape: the trunk, its input, its widths and the projection's output size. */
export interface TrunkShape {
  readonly trunk: MmdcTrunk;
  readonly imageShape: readonly [number, number, number];
  readonly widths: readonly number[];
  readonly outputDim: number;
}

/** The network's shape: its parameters, its batch-norm layers and how the trunk is wired. */
export interface TrunkLayout extends TrunkShape {
  /** Size of the pooled trunk output the heads read. */
  readonly pooledDim: number;
  readonly parameters: readonly ParameterSpec[];
  readonly batchNorms: readonly BatchNormSpec[];
}

/** The projection head (to the unit sphere, d) and the rotation head (4 logits) on the pooled trunk. */
export const HEAD_WEIGHT = 'head.w';
export const HEAD_BIAS = 'head.b';
export const ROTATION_WEIGHT = 'rotation.w';
export const ROTATION_BIAS = 'rotation.b';
/** Parameters the serving model does not need. */
export const TRAINING_ONLY = new Set([ROTATION_WEIGHT, ROTATION_BIAS]);

export function trunkLayout(trunk: MmdcTrunk, imageShape: readonly [number, number, number], widths: readonly number[], outputDim: number): TrunkLayout {
  const parameters: ParameterSpec[] = [];
  const batchNorms: BatchNormSpec[] = [];
  const conv = (name: string, kernel: number, input: number, output: number): void => {
    parameters.push({ name, shape: [kernel, kernel, input, output], init: 'conv', decays: true });
  };
  const bn = (name: string, channels: number): void => {
    parameters.push({ name: `${name}.gamma`, shape: [channels], init: 'ones', decays: false });
    parameters.push({ name: `${name}.beta`, shape: [channels], init: 'zeros', decays: false });
    batchNorms.push({ kind: 'bn', name, channels });
  };
  let pooledDim: number;
  if (trunk === 'cnn4') {
    let input = imageShape[2];
    widths.forEach((width, i) => {
      conv(`conv${i}.w`, 3, input, width);
      bn(`bn${i}`, width);
      input = width;
    });
    pooledDim = input;
  } else {
    const base = widths[0];
    conv('stem.w', 3, imageShape[2], base);
    bn('stem.bn', base);
    let input = base;
    for (const [stage, width] of [base, base * 2, base * 4, base * 8].entries()) {
      for (let block = 0; block < 2; block++) {
        const prefix = `s${stage}b${block}`;
        const stride = stage > 0 && block === 0 ? 2 : 1;
        conv(`${prefix}.conv1.w`, 3, input, width);
        bn(`${prefix}.bn1`, width);
        conv(`${prefix}.conv2.w`, 3, width, width);
        bn(`${prefix}.bn2`, width);
        if (stride !== 1 || input !== width) {
          conv(`${prefix}.shortcut.w`, 1, input, width);
          bn(`${prefix}.shortcut.bn`, width);
        }
        input = width;
      }
    }
    pooledDim = input;
  }
  parameters.push({ name: HEAD_WEIGHT, shape: [pooledDim, outputDim], init: 'dense', decays: true });
  parameters.push({ name: HEAD_BIAS, shape: [outputDim], init: 'zeros', decays: false });
  parameters.push({ name: ROTATION_WEIGHT, shape: [pooledDim, 4], init: 'dense', decays: true });
  parameters.push({ name: ROTATION_BIAS, shape: [4], init: 'zeros', decays: false });
  return { trunk, imageShape, widths, outputDim, pooledDim, parameters, batchNorms };
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Running statistics of every batch-norm layer: name -> channels. */
export function statisticSpecs(layout: TrunkLayout): { name: string; size: number; initial: number }[] {
  return layout.batchNorms.flatMap((b) => [
    { name: `${b.name}.mean`, size: b.channels, initial: 0 },
    { name: `${b.name}.var`, size: b.channels, initial: 1 },
  ]);
}
