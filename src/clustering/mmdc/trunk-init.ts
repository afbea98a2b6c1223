import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { type TrunkLayout, sizeOf } from './trunk-layout.ts';

/**
 * Initial parameters: convolutions Kaiming-normal (fan-in, ReLU gain), batch-norm scale 1 and
 * shift 0, biases 0, as the official small VGG; dense layers N(0, 1/fan_in) where it draws
 * N(0, 0.01). Its head reads 1024 flattened activations; ours reads a globally averaged map of
 * 128-256 channels, ~10x smaller in norm, so N(0, 0.01) gave outputs of norm ~0.03 whose
 * normalisation blew the first gradients up and the head's weights with them, after which it
 * barely learnt: one batch of 32 bars, 3 classes, supervised, loss after 50 SGD steps 0.204 with
 * N(0, 0.01) vs 0.0016 with N(0, 1/fan_in) (PyTorch, docs/MMDC.md). Same rule for both trunks;
 * drawn in layout order.
 */
export function initialParameters(layout: TrunkLayout, random: SeededRandom): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const spec of layout.parameters) {
    const values = new Float32Array(sizeOf(spec.shape));
    if (spec.init === 'ones') values.fill(1);
    else if (spec.init === 'conv') {
      const [kh, kw, input] = spec.shape;
      const std = Math.sqrt(2 / (kh * kw * input));
      for (let i = 0; i < values.length; i++) values[i] = random.normal() * std;
    } else if (spec.init === 'dense') {
      const std = 1 / Math.sqrt(spec.shape[0]);
      for (let i = 0; i < values.length; i++) values[i] = random.normal() * std;
    }
    out[spec.name] = values;
  }
  return out;
}
