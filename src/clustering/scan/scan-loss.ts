import { tf } from '../../tf/tf.ts';

/** SCAN's EPS: the batch marginal is clamped before its log so an empty cluster does not give NaN. */
const MARGINAL_FLOOR = 1e-8;

export interface ScanHeadLosses {
  /** consistency - entropyWeight * entropy, per head: [H]. The objective is its sum over heads. */
  readonly total: tf.Tensor1D;
  /** -weighted mean_b log <p(x_b), p(x'_b)>: [H]. */
  readonly consistency: tf.Tensor1D;
  /** H(mean_b p(x_b)) in nats: [H]. */
  readonly entropy: tf.Tensor1D;
}

/**
 * The SCAN clustering loss for H heads at once:
 *   L_h = -sum_b w_b log <p_h(x_b), p_h(x'_b)> / sum_b w_b  -  lambda * H(mean_b p_h(x_b))
 * With no pair weights w_b = 1, which is SCAN itself; TSP passes its Gaussian neighbour weights.
 * Both members of a pair carry gradients, as in SCAN's reference. log<p, p'> is taken as
 * logsumexp(log p + log p') so a confident disagreeing pair gives a large finite loss, not -log 0.
 *
 * anchorLogits, neighbourLogits: [H, B, C]; pairWeights: [B] or undefined. Call inside tf.tidy.
 */
export function scanHeadLosses(
  anchorLogits: tf.Tensor3D,
  neighbourLogits: tf.Tensor3D,
  entropyWeight: number,
  pairWeights?: tf.Tensor1D,
): ScanHeadLosses {
  const logAnchor = tf.logSoftmax(anchorLogits);
  const logNeighbour = tf.logSoftmax(neighbourLogits);
  const logSimilarity = tf.logSumExp(tf.add(logAnchor, logNeighbour), 2); // [H, B]
  const consistency = (pairWeights
    ? tf.div(tf.neg(tf.sum(tf.mul(logSimilarity, pairWeights), 1)), tf.maximum(tf.sum(pairWeights), 1e-12))
    : tf.neg(tf.mean(logSimilarity, 1))) as tf.Tensor1D;
  const marginal = tf.maximum(tf.mean(tf.exp(logAnchor), 1), MARGINAL_FLOOR); // [H, C]
  const entropy = tf.neg(tf.sum(tf.mul(marginal, tf.log(marginal)), 1)) as tf.Tensor1D;
  const total = tf.sub(consistency, tf.mul(entropy, entropyWeight)) as tf.Tensor1D;
  return { total, consistency, entropy };
}
