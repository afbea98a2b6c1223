import { tf } from '../../tf/tf.ts';

export interface AdamWOptions {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}

export const ADAMW_DEFAULTS: Omit<AdamWOptions, 'weightDecay'> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export interface AdamWParameter {
  readonly name: string;
  readonly variable: tf.Variable;
  /** Decoupled weight decay applies to this tensor (the >= 2-dim matrices, not biases or gains). */
  readonly decays: boolean;
}

interface Slot {
  readonly parameter: AdamWParameter;
  readonly firstMoment: tf.Variable;
  readonly secondMoment: tf.Variable;
  /** Steps this tensor has taken; a tensor without a gradient (frozen) does not step, as in PyTorch. */
  steps: number;
}

export interface AdamWSlotState {
  readonly firstMoment: Float32Array;
  readonly secondMoment: Float32Array;
  readonly steps: number;
}

/**
 * AdamW exactly as torch.optim.AdamW (decay p <- p (1 - lr wd) first, then the bias-corrected
 * Adam step with epsilon added to sqrt(v_hat)), over tf.Variables with no Optimizer object.
 */
export class AdamW {
  private readonly slots = new Map<string, Slot>();

  constructor(parameters: readonly AdamWParameter[], private readonly options: AdamWOptions) {
    for (const parameter of parameters) {
      this.slots.set(parameter.name, {
        parameter,
        firstMoment: tf.tidy(() => tf.variable(tf.zerosLike(parameter.variable), false)),
        secondMoment: tf.tidy(() => tf.variable(tf.zerosLike(parameter.variable), false)),
        steps: 0,
      });
    }
  }

  /** One update of every parameter present in `gradients` (keyed by parameter name). */
  step(gradients: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    for (const [name, gradient] of gradients) {
      const slot = this.slots.get(name);
      if (!slot) throw new Error(`AdamW has no parameter named ${name}`);
      slot.steps += 1;
      const stepSize = learningRate / (1 - beta1 ** slot.steps);
      const secondCorrectionRoot = Math.sqrt(1 - beta2 ** slot.steps);
      tf.tidy(() => {
        const p = slot.parameter.variable;
        const m = tf.add(tf.mul(slot.firstMoment, beta1), tf.mul(gradient, 1 - beta1));
        const v = tf.add(tf.mul(slot.secondMoment, beta2), tf.mul(tf.square(gradient), 1 - beta2));
        const decayed = slot.parameter.decays && weightDecay > 0 ? tf.mul(p, 1 - learningRate * weightDecay) : p;
        const denominator = tf.add(tf.div(tf.sqrt(v), secondCorrectionRoot), epsilon);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denominator), stepSize)));
        slot.firstMoment.assign(m);
        slot.secondMoment.assign(v);
      });
    }
  }

  /** The moment variables, so a caller can checkpoint them on the device. */
  momentVariables(): tf.Variable[] {
    return [...this.slots.values()].flatMap((slot) => [slot.firstMoment, slot.secondMoment]);
  }

  stepCounts(): Record<string, number> {
    return Object.fromEntries([...this.slots].map(([name, slot]) => [name, slot.steps]));
  }

  setStepCounts(counts: Record<string, number>): void {
    for (const [name, slot] of this.slots) slot.steps = counts[name] ?? 0;
  }

  /** Moments and step counts as host arrays, for a durable snapshot. */
  exportState(): Record<string, AdamWSlotState> {
    const out: Record<string, AdamWSlotState> = {};
    for (const [name, slot] of this.slots) {
      out[name] = {
        firstMoment: slot.firstMoment.dataSync() as Float32Array,
        secondMoment: slot.secondMoment.dataSync() as Float32Array,
        steps: slot.steps,
      };
    }
    return out;
  }

  importState(state: Record<string, AdamWSlotState>): void {
    for (const [name, slot] of this.slots) {
      const s = state[name];
      tf.tidy(() => {
        slot.firstMoment.assign(tf.tensor(s.firstMoment, slot.firstMoment.shape));
        slot.secondMoment.assign(tf.tensor(s.secondMoment, slot.secondMoment.shape));
      });
      slot.steps = s.steps;
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.firstMoment.dispose();
      slot.secondMoment.dispose();
    }
    this.slots.clear();
  }
}
