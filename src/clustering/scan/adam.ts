import { tf } from '../../tf/tf.ts';

export interface AdamOptions {
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

export interface AdamState {
  readonly steps: number;
  readonly firstMoments: Float32Array[];
  readonly secondMoments: Float32Array[];
}

/**
 * Adam as torch.optim.Adam with weight_decay: the decay is COUPLED (wd * p added to the gradient
 * before the moments), which is what SCAN's reference configuration uses.
 */
export class Adam {
  private readonly firstMoments: tf.Variable[];
  private readonly secondMoments: tf.Variable[];
  private steps = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(private readonly parameters: readonly tf.Variable[], private readonly options: AdamOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    // tidy frees the zeros that tf.variable would otherwise leave registered
    this.firstMoments = parameters.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.secondMoments = parameters.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** One update; gradients are aligned with the parameters given to the constructor. */
  step(gradients: readonly tf.Tensor[]): void {
    const { learningRate, weightDecay } = this.options;
    const { beta1, beta2, epsilon } = this;
    this.steps += 1;
    const stepSize = learningRate / (1 - beta1 ** this.steps);
    const secondCorrectionRoot = Math.sqrt(1 - beta2 ** this.steps);
    tf.tidy(() => {
      this.parameters.forEach((parameter, i) => {
        const gradient = weightDecay > 0 ? tf.add(gradients[i], tf.mul(parameter, weightDecay)) : gradients[i];
        const m = tf.add(tf.mul(this.firstMoments[i], beta1), tf.mul(gradient, 1 - beta1));
        const v = tf.add(tf.mul(this.secondMoments[i], beta2), tf.mul(tf.square(gradient), 1 - beta2));
        this.firstMoments[i].assign(m);
        this.secondMoments[i].assign(v);
        const denominator = tf.add(tf.div(tf.sqrt(v), secondCorrectionRoot), epsilon);
        parameter.assign(tf.sub(parameter, tf.mul(tf.div(m, denominator), stepSize)));
      });
    });
  }

  snapshot(): AdamState {
    return {
      steps: this.steps,
      firstMoments: this.firstMoments.map((m) => Float32Array.from(m.dataSync())),
      secondMoments: this.secondMoments.map((v) => Float32Array.from(v.dataSync())),
    };
  }

  restore(state: AdamState): void {
    this.steps = state.steps;
    tf.tidy(() => {
      this.firstMoments.forEach((m, i) => m.assign(tf.tensor(state.firstMoments[i], m.shape)));
      this.secondMoments.forEach((v, i) => v.assign(tf.tensor(state.secondMoments[i], v.shape)));
    });
  }

  dispose(): void {
    for (const variable of [...this.firstMoments, ...this.secondMoments]) variable.dispose();
  }
}
