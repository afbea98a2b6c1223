import { type FusedKernels, fusedKernels } from '../../tf/fused-kernels.ts';
import { tf } from '../../tf/tf.ts';

/** What the teacher contributes to one step; none of it carries a gradient. */
export interface TeacherTargets {
  /** log softmax(teacher logits / tau_t): [H, 2B, C], anchors first then their neighbours. */
  readonly logProbabilities: tf.Tensor3D;
  /** Cluster marginal q after this batch's EMA update: [H, 1, C]. */
  readonly marginal: tf.Tensor3D;
  /** Teacher-ensemble agreement of each pair, (1/H) sum_h <p_t(x), p_t(x')>: [B]. */
  readonly pairWeight: tf.Tensor1D;
}

/**
 * Teacher side of the TEMI objective. The marginal is updated BEFORE it enters the loss, as in
 * the reference. Call inside tf.tidy.
 */
export function teacherTargets(
  teacherLogits: tf.Tensor3D,
  marginal: tf.Tensor3D,
  teacherTemperature: number,
  marginalMomentum: number,
): TeacherTargets {
  const kernels = fusedKernels();
  if (!kernels) return teacherTargetsOps(teacherLogits, marginal, teacherTemperature, marginalMomentum);
  const [logProbabilities, updated, pairWeight] = kernels.teacherTargets(teacherLogits, marginal, teacherTemperature, marginalMomentum);
  return { logProbabilities, marginal: updated, pairWeight };
}

/** teacherTargets as TensorFlow.js ops, on every backend (the fused kernel computes the same). */
export function teacherTargetsOps(
  teacherLogits: tf.Tensor3D,
  marginal: tf.Tensor3D,
  teacherTemperature: number,
  marginalMomentum: number,
): TeacherTargets {
  const [heads, rows] = teacherLogits.shape;
  const pairs = rows / 2;
  const logProbabilities = tf.logSoftmax(tf.div(teacherLogits, teacherTemperature)) as tf.Tensor3D;
  const probabilities = tf.exp(logProbabilities);
  const batchMarginal = tf.mean(probabilities, 1, true);
  const updated = tf.add(tf.mul(marginal, marginalMomentum), tf.mul(batchMarginal, 1 - marginalMomentum)) as tf.Tensor3D;
  const [anchors, neighbours] = tf.split(probabilities, [pairs, pairs], 1);
  const pairWeight = tf.div(tf.sum(tf.mul(anchors, neighbours), [0, 2]), heads) as tf.Tensor1D;
  return { logProbabilities, marginal: updated, pairWeight };
}

/**
 * Per-head TEMI loss [H] (mean over heads is the training objective), computed in log space
 * because (p_s p_t)^beta has an infinite derivative at 0:
 *   A  = logsumexp_c(beta * (ls[x'] + lt[x]) - log q),  A' = logsumexp_c(beta * (ls[x] + lt[x']) - log q)
 *   L_h = 0.5 * (mean(-w A) + mean(-w A'))
 * Only `studentLogits` carries a gradient.
 */
export function temiHeadLosses(
  studentLogits: tf.Tensor3D,
  targets: TeacherTargets,
  beta: number,
  studentTemperature: number,
): tf.Tensor1D {
  const kernels = fusedKernels();
  return kernels ? fusedHeadLosses(kernels, studentLogits, targets, beta, studentTemperature) : temiHeadLossesOps(studentLogits, targets, beta, studentTemperature);
}

/** temiHeadLosses as TensorFlow.js ops, on every backend (the fused kernels compute the same). */
export function temiHeadLossesOps(studentLogits: tf.Tensor3D, targets: TeacherTargets, beta: number, studentTemperature: number): tf.Tensor1D {
  const pairs = studentLogits.shape[1] / 2;
  const logStudent = tf.logSoftmax(tf.div(studentLogits, studentTemperature));
  const [studentAnchor, studentNeighbour] = tf.split(logStudent, [pairs, pairs], 1);
  const [teacherAnchor, teacherNeighbour] = tf.split(targets.logProbabilities, [pairs, pairs], 1);
  const logMarginal = tf.log(targets.marginal);
  const pmi = (student: tf.Tensor, teacher: tf.Tensor): tf.Tensor =>
    tf.logSumExp(tf.sub(tf.mul(tf.add(student, teacher), beta), logMarginal), 2);
  const weighted = (a: tf.Tensor): tf.Tensor => tf.mean(tf.mul(tf.neg(a), targets.pairWeight), 1);
  const forward = weighted(pmi(studentNeighbour, teacherAnchor));
  const backward = weighted(pmi(studentAnchor, teacherNeighbour));
  return tf.mul(tf.add(forward, backward), 0.5) as tf.Tensor1D;
}

/** temiHeadLosses as one kernel each way (native TensorFlow on the CPU); the same function. */
function fusedHeadLosses(kernels: FusedKernels, studentLogits: tf.Tensor3D, targets: TeacherTargets, beta: number, studentTemperature: number): tf.Tensor1D {
  const logMarginal = tf.log(targets.marginal) as tf.Tensor3D;
  const losses = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [student, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
    // Everything the gradient reads goes through save: a gradient scope disposes the tensors its
    // forward function made (logMarginal here) before the backward pass runs.
    save([student, targets.logProbabilities, logMarginal, targets.pairWeight]);
    return {
      value: kernels.temiLoss({ studentLogits: student, teacherLogProbabilities: targets.logProbabilities, logMarginal, pairWeight: targets.pairWeight, beta, studentTemperature }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [s, teacher, marginal, pairWeight] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor1D];
        return kernels.temiLossGrad(dy as tf.Tensor1D, { studentLogits: s, teacherLogProbabilities: teacher, logMarginal: marginal, pairWeight, beta, studentTemperature });
      },
    };
  });
  return losses(studentLogits) as tf.Tensor1D;
}
