import type { TemiConfig } from './temi-config.ts';

/**
 * All H heads live in a few shared tensors so one (batched) matmul serves every head:
 *   w1 [D, H*M]  b1 [H*M]        first layer of every head side by side (one plain matmul)
 *   w2 [H, M, P] b2 [H, 1, P]    second layer, batched over heads
 *   v  [H, P, C] g  [H, 1, C]    weight-normalised last layer: W_c = g_c v_c / ||v_c||
 * Each head on its own is exactly the per-head network of TEMI.md.
 */
export const PARAMETER_NAMES = ['w1', 'b1', 'w2', 'b2', 'v', 'g'] as const;
export type ParameterName = (typeof PARAMETER_NAMES)[number];

export interface HeadDimensions {
  readonly heads: number;
  readonly dim: number;
  readonly hidden: number;
  readonly bottleneck: number;
  readonly clusters: number;
}

export interface ParameterSpec {
  readonly shape: number[];
  /**
   * Decoupled weight decay applies to tensors of >= 2 dims in the per-head network (the matrices
   * w1, w2, v). Biases and the gain g are vectors per head, whatever their batched layout here.
   */
  readonly decays: boolean;
  /** Part of the last layer, which stays frozen during the trainer's first epoch(s). */
  readonly lastLayer: boolean;
}

export function headDimensions(config: TemiConfig, dim: number): HeadDimensions {
  return { heads: config.heads, dim, hidden: config.hidden, bottleneck: config.bottleneck, clusters: config.clusters };
}

export function parameterSpecs(d: HeadDimensions): Record<ParameterName, ParameterSpec> {
  const { heads: h, dim, hidden: m, bottleneck: p, clusters: c } = d;
  return {
    w1: { shape: [dim, h * m], decays: true, lastLayer: false },
    b1: { shape: [h * m], decays: false, lastLayer: false },
    w2: { shape: [h, m, p], decays: true, lastLayer: false },
    b2: { shape: [h, 1, p], decays: false, lastLayer: false },
    v: { shape: [h, p, c], decays: true, lastLayer: true },
    g: { shape: [h, 1, c], decays: false, lastLayer: true },
  };
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
