import { tf } from '../../tf/tf.ts';

export interface SgdParameter {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly decays: boolean;
}

/**
 * SGD with momentum and coupled weight decay, exactly as torch.optim.SGD (dampening 0, no
 * Nesterov): g = grad + wd * w (weights only); buf = momentum * buf + g; w -= lr * buf. The
 * buffers start at zero, which equals PyTorch's first-step copy of g.
 */
export class SgdMomentum {
  private readonly buffers: Map<string, tf.Variable>;

  constructor(private readonly parameters: readonly SgdParameter[], private readonly momentum: number, private readonly weightDecay: number) {
    // Inside tidy: each variable keeps its own reference to the zeros, the temporary is freed.
    const buffers = tf.tidy(() => parameters.map((p) => tf.variable(tf.zerosLike(p.variable), false)));
    this.buffers = new Map(parameters.map((p, i) => [p.name, buffers[i]]));
  }

  step(gradients: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    tf.tidy(() => {
      for (const p of this.parameters) {
        const gradient = gradients.get(p.name);
        if (!gradient) continue;
        const g = p.decays && this.weightDecay > 0 ? tf.add(gradient, tf.mul(p.variable, this.weightDecay)) : gradient;
        const buffer = this.buffers.get(p.name)!;
        buffer.assign(tf.add(tf.mul(buffer, this.momentum), g));
        p.variable.assign(tf.sub(p.variable, tf.mul(buffer, learningRate)));
      }
    });
  }

  bufferVariables(): tf.Variable[] {
    return [...this.buffers.values()];
  }

  exportBuffers(): Record<string, Float32Array> {
    return Object.fromEntries([...this.buffers].map(([name, v]) => [name, Float32Array.from(v.dataSync() as Float32Array)]));
  }

  importBuffers(values: Record<string, Float32Array>): void {
    tf.tidy(() => {
      for (const [name, v] of this.buffers) v.assign(tf.tensor(values[name], v.shape));
    });
  }

  dispose(): void {
    for (const v of this.buffers.values()) v.dispose();
  }
}
