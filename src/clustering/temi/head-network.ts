import { fusedKernels } from '../../tf/fused-kernels.ts';
import { tf } from '../../tf/tf.ts';
import { type HeadDimensions, PARAMETER_NAMES, type ParameterName, parameterSpecs } from './head-layout.ts';

export type HeadVariables = Record<ParameterName, tf.Variable>;

/** Student and teacher variables plus the cluster marginals, for one set of head dimensions. */
export class HeadNetwork {
  readonly student: HeadVariables;
  readonly teacher: HeadVariables;
  /** q per head, [H, 1, C], initialised uniform. */
  readonly marginal: tf.Variable;

  constructor(readonly dims: HeadDimensions, initial: Record<ParameterName, Float32Array>) {
    const specs = parameterSpecs(dims);
    const make = (trainable: boolean): HeadVariables =>
      Object.fromEntries(
        PARAMETER_NAMES.map((name) => [name, tf.tidy(() => tf.variable(tf.tensor(initial[name], specs[name].shape), trainable))]),
      ) as HeadVariables;
    this.student = make(true);
    // The teacher never gets gradients: it is an EMA of the student.
    this.teacher = make(false);
    this.marginal = tf.tidy(() => tf.variable(tf.fill([dims.heads, 1, dims.clusters], 1 / dims.clusters), false));
  }

  /** teacher <- m * teacher + (1 - m) * student, every head parameter. */
  updateTeacher(momentum: number): void {
    const kernels = fusedKernels();
    tf.tidy(() => {
      for (const name of PARAMETER_NAMES) {
        const [teacher, student] = [this.teacher[name], this.student[name]];
        teacher.assign(kernels ? kernels.movingAverage(teacher, student, momentum) : tf.add(tf.mul(teacher, momentum), tf.mul(student, 1 - momentum)));
      }
    });
  }

  variables(): tf.Variable[] {
    return [...Object.values(this.student), ...Object.values(this.teacher), this.marginal];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

/** Device-side copies of some variables, to put back if a round fails. */
export class VariableCheckpoint {
  private readonly copies: tf.Tensor[];

  constructor(private readonly variables: readonly tf.Variable[]) {
    this.copies = variables.map((v) => tf.clone(v));
  }

  restore(): void {
    tf.tidy(() => this.variables.forEach((v, i) => v.assign(this.copies[i])));
  }

  dispose(): void {
    for (const c of this.copies) c.dispose();
  }
}
