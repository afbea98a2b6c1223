import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { type HeadDimensions, type ParameterName, parameterSpecs, sizeOf } from './head-layout.ts';

const HIDDEN_WEIGHT_STD = 0.02;

/**
 * Initial values of every head parameter. Hidden layers: N(0, 0.02), bias 0 (as in the reference
 * code). Last layer direction v: PyTorch's default Linear init U(-1/sqrt(P), 1/sqrt(P)) (the
 * reference builds it after its custom init runs); only its direction matters since g = 1.
 */
export function initialHeadValues(d: HeadDimensions, random: SeededRandom): Record<ParameterName, Float32Array> {
  const specs = parameterSpecs(d);
  const normal = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = random.normal() * HIDDEN_WEIGHT_STD;
    return out;
  };
  const bound = 1 / Math.sqrt(d.bottleneck);
  const v = new Float32Array(sizeOf(specs.v.shape));
  for (let i = 0; i < v.length; i++) v[i] = (2 * random.next() - 1) * bound;
  return {
    w1: normal(sizeOf(specs.w1.shape)),
    b1: new Float32Array(sizeOf(specs.b1.shape)),
    w2: normal(sizeOf(specs.w2.shape)),
    b2: new Float32Array(sizeOf(specs.b2.shape)),
    v,
    g: new Float32Array(sizeOf(specs.g.shape)).fill(1),
  };
}
