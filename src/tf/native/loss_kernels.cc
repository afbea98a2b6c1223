// TEMI's objective (TEMI.md) over all heads at once: the teacher's side of a step and the
// student's loss with its gradient. TensorFlow.js runs them as ~150 small kernels a step over
// [H, 2B, C] tensors, where the work is tiny and the per-kernel cost is what counts.
#include <cmath>

#include "kernel_api.h"

namespace temi_kernels {
namespace {

// out = log softmax(x / temperature) over n values; out may not alias x.
void logSoftmaxScaled(const float* x, float inverseTemperature, float* out, int64_t n) {
  float top = -INFINITY;
  for (int64_t c = 0; c < n; c++) top = std::max(top, x[c] * inverseTemperature);
  float sum = 0.0f;
  for (int64_t c = 0; c < n; c++) sum += std::exp(x[c] * inverseTemperature - top);
  // (x - top) - log(sum), in that order: x - (top + log(sum)) loses the small log probabilities
  // of the largest entries to rounding at top's scale.
  const float logSum = std::log(sum);
  for (int64_t c = 0; c < n; c++) out[c] = (x[c] * inverseTemperature - top) - logSum;
}

// The pointwise-mutual-information term of one pair in log space, and its softmax weights:
// u_c = beta (ls_c + lt_c) - lq_c; returns logsumexp(u), leaves softmax(u) in weights.
float pairTerm(const float* logStudent, const float* logTeacher, const float* logMarginal, float beta, float* weights, int64_t n) {
  float top = -INFINITY;
  for (int64_t c = 0; c < n; c++) {
    weights[c] = beta * (logStudent[c] + logTeacher[c]) - logMarginal[c];
    top = std::max(top, weights[c]);
  }
  float sum = 0.0f;
  for (int64_t c = 0; c < n; c++) {
    weights[c] = std::exp(weights[c] - top);
    sum += weights[c];
  }
  for (int64_t c = 0; c < n; c++) weights[c] /= sum;
  return top + std::log(sum);
}

float scalarInput(const Inputs& in, size_t i) { return *in.data(i); }

// TemiStreamTeacherTargets(logits [H, 2B, C], marginal [H, 1, C], temperature [], momentum [])
//   -> logProbabilities [H, 2B, C], updated marginal [H, 1, C], pairWeight [B]
void computeTeacherTargets(void*, TF_OpKernelContext* ctx) {
  int64_t heads = 0, rows = 0, clusters = 0, pairs = 0;
  runKernel(
      ctx, {3, 3, 0, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        const TF_Tensor* logits = in.tensors[0];
        heads = tf.Dim(logits, 0), rows = tf.Dim(logits, 1), clusters = tf.Dim(logits, 2), pairs = rows / 2;
        if (rows % 2 != 0 || dimsOf(in.tensors[1]) != std::vector<int64_t>{heads, 1, clusters}) {
          return "TemiStreamTeacherTargets: logits must be [H, 2B, C] and the marginal [H, 1, C]";
        }
        shapes = {{heads, rows, clusters}, {heads, 1, clusters}, {pairs}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* x = in.data(0);
        const float* q = in.data(1);
        const float inverseTemperature = 1.0f / scalarInput(in, 2), momentum = scalarInput(in, 3);
        float* logProbabilities = out.data(0);
        float* updated = out.data(1);
        float* pairWeight = out.data(2);
        // Each head's agreement per pair, summed over heads afterwards (one writer per head).
        std::vector<float> agreement(heads * pairs);
        parallelFor(heads, heads * rows * clusters * 8, [&](int64_t h) {
          std::vector<float> batchMarginal(clusters, 0.0f);
          for (int64_t r = 0; r < rows; r++) {
            float* lp = logProbabilities + (h * rows + r) * clusters;
            logSoftmaxScaled(x + (h * rows + r) * clusters, inverseTemperature, lp, clusters);
            for (int64_t c = 0; c < clusters; c++) batchMarginal[c] += std::exp(lp[c]);
          }
          for (int64_t c = 0; c < clusters; c++) {
            updated[h * clusters + c] = q[h * clusters + c] * momentum + batchMarginal[c] / static_cast<float>(rows) * (1.0f - momentum);
          }
          for (int64_t i = 0; i < pairs; i++) {
            const float* anchor = logProbabilities + (h * rows + i) * clusters;
            const float* neighbour = logProbabilities + (h * rows + pairs + i) * clusters;
            float dot = 0.0f;
            for (int64_t c = 0; c < clusters; c++) dot += std::exp(anchor[c]) * std::exp(neighbour[c]);
            agreement[h * pairs + i] = dot;
          }
        });
        for (int64_t i = 0; i < pairs; i++) {
          float sum = 0.0f;
          for (int64_t h = 0; h < heads; h++) sum += agreement[h * pairs + i];
          pairWeight[i] = sum / static_cast<float>(heads);
        }
      });
}

// The inputs both loss kernels take after their first: student logits [H, 2B, C], the teacher's
// log probabilities (same shape), log marginal [H, 1, C], pair weights [B], beta [], the student
// temperature [].
struct LossInputs {
  const float* student;
  const float* logTeacher;
  const float* logMarginal;
  const float* pairWeight;
  float beta;
  float inverseTemperature;
  int64_t heads, rows, clusters, pairs;
};

bool lossInputs(const Inputs& in, size_t first, LossInputs& out) {
  const TF_Tensor* student = in.tensors[first];
  out.heads = tf.Dim(student, 0), out.rows = tf.Dim(student, 1), out.clusters = tf.Dim(student, 2), out.pairs = out.rows / 2;
  const TF_Tensor* marginal = in.tensors[first + 2];
  if (out.rows % 2 != 0 || dimsOf(student) != dimsOf(in.tensors[first + 1]) || tf.Dim(marginal, 0) != out.heads || tf.Dim(marginal, 1) != 1 ||
      tf.Dim(marginal, 2) != out.clusters || tf.Dim(in.tensors[first + 3], 0) != out.pairs) {
    return false;
  }
  out.student = in.data(first);
  out.logTeacher = in.data(first + 1);
  out.logMarginal = in.data(first + 2);
  out.pairWeight = in.data(first + 3);
  out.beta = scalarInput(in, first + 4);
  out.inverseTemperature = 1.0f / scalarInput(in, first + 5);
  return true;
}

constexpr const char* LOSS_SHAPES = "student logits and teacher log probabilities must be [H, 2B, C], the log marginal [H, 1, C], pair weights [B]";

// Student row r is scored against the teacher's row of its pair partner (anchor i <-> neighbour B + i).
int64_t partnerOf(int64_t r, int64_t pairs) { return r < pairs ? r + pairs : r - pairs; }

// TemiStreamTemiLoss(student, logTeacher, logMarginal, pairWeight, beta, temperature) -> losses [H]
//   L_h = 0.5 (mean_i -w_i A_i + mean_i -w_i A'_i), A, A' the pair terms (temi-loss.ts)
void computeTemiLoss(void*, TF_OpKernelContext* ctx) {
  LossInputs l{};
  runKernel(
      ctx, {3, 3, 3, 1, 0, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!lossInputs(in, 0, l)) return std::string("TemiStreamTemiLoss: ") + LOSS_SHAPES;
        shapes = {{l.heads}};
        return "";
      },
      [&](const Inputs&, const Outputs& out) {
        float* losses = out.data(0);
        parallelFor(l.heads, l.heads * l.rows * l.clusters * 8, [&](int64_t h) {
          std::vector<float> logStudent(l.clusters), weights(l.clusters);
          float sum = 0.0f;
          for (int64_t r = 0; r < l.rows; r++) {
            logSoftmaxScaled(l.student + (h * l.rows + r) * l.clusters, l.inverseTemperature, logStudent.data(), l.clusters);
            const float* logTeacher = l.logTeacher + (h * l.rows + partnerOf(r, l.pairs)) * l.clusters;
            sum += -l.pairWeight[r % l.pairs] * pairTerm(logStudent.data(), logTeacher, l.logMarginal + h * l.clusters, l.beta, weights.data(), l.clusters);
          }
          losses[h] = 0.5f * sum / static_cast<float>(l.pairs);
        });
      });
}

// TemiStreamTemiLossGrad(dlosses [H], student, logTeacher, logMarginal, pairWeight, beta,
// temperature) -> dstudent [H, 2B, C]. Each student row enters one pair term, so its gradient is
// that term's softmax weights through the row's log softmax.
void computeTemiLossGrad(void*, TF_OpKernelContext* ctx) {
  LossInputs l{};
  runKernel(
      ctx, {1, 3, 3, 3, 1, 0, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!lossInputs(in, 1, l) || tf.Dim(in.tensors[0], 0) != l.heads) return std::string("TemiStreamTemiLossGrad: dlosses must be [H]; ") + LOSS_SHAPES;
        shapes = {{l.heads, l.rows, l.clusters}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* upstream = in.data(0);
        float* grad = out.data(0);
        parallelFor(l.heads, l.heads * l.rows * l.clusters * 8, [&](int64_t h) {
          std::vector<float> logStudent(l.clusters), weights(l.clusters);
          for (int64_t r = 0; r < l.rows; r++) {
            logSoftmaxScaled(l.student + (h * l.rows + r) * l.clusters, l.inverseTemperature, logStudent.data(), l.clusters);
            const float* logTeacher = l.logTeacher + (h * l.rows + partnerOf(r, l.pairs)) * l.clusters;
            pairTerm(logStudent.data(), logTeacher, l.logMarginal + h * l.clusters, l.beta, weights.data(), l.clusters);
            // d loss / d logStudent_c = scale * softmax weight_c, then back through the log softmax.
            const float scale = upstream[h] * 0.5f * -l.pairWeight[r % l.pairs] / static_cast<float>(l.pairs) * l.beta;
            float total = 0.0f;
            for (int64_t c = 0; c < l.clusters; c++) total += scale * weights[c];
            float* g = grad + (h * l.rows + r) * l.clusters;
            for (int64_t c = 0; c < l.clusters; c++) {
              g[c] = (scale * weights[c] - std::exp(logStudent[c]) * total) * l.inverseTemperature;
            }
          }
        });
      });
}

}  // namespace

std::string registerLossKernels() {
  std::string error = registerOp("TemiStreamTeacherTargets", {"logits: float", "marginal: float", "temperature: float", "momentum: float"},
                                 {"log_probabilities: float", "updated_marginal: float", "pair_weight: float"}, {}, &noState,
                                 &computeTeacherTargets, &deleteNothing);
  if (error.empty()) {
    error = registerOp("TemiStreamTemiLoss",
                       {"student: float", "log_teacher: float", "log_marginal: float", "pair_weight: float", "beta: float", "temperature: float"},
                       {"losses: float"}, {}, &noState, &computeTemiLoss, &deleteNothing);
  }
  if (error.empty()) {
    error = registerOp("TemiStreamTemiLossGrad",
                       {"dlosses: float", "student: float", "log_teacher: float", "log_marginal: float", "pair_weight: float", "beta: float",
                        "temperature: float"},
                       {"dstudent: float"}, {}, &noState, &computeTemiLossGrad, &deleteNothing);
  }
  return error;
}

}  // namespace temi_kernels
