// MMDC's ConvNet: training-mode batch normalisation over the channels-last axis, with the ReLU
// that follows it where there is one, each direction in one kernel. TensorFlow.js runs them as
// ~10 ops forward (moments, scale, shift, ReLU) and ~25 backward (Step for the ReLU's mask, the
// moments' and the affine part's gradients), each a full pass over the activations.
//
//   TemiStreamBatchNormRelu(x [M.., C], gamma [C], beta [C], epsilon []; relu) -> y, mean [C], variance [C]
//       mean, variance: the batch's (biased) moments over every axis but the last
//       y = (x - mean) gamma / sqrt(variance + epsilon) + beta, then max(y, 0) when relu = 1
//   TemiStreamBatchNormReluGrad(dy, x, gamma, beta, mean, variance, epsilon []; relu)
//       -> dx, dgamma [C], dbeta [C], the gradients through the batch's moments included
//   TemiStreamBatchNormReluInference(x, gamma, beta, mean, variance, epsilon []; relu) -> y
//       the same y with given (running) moments: the eval-mode forward, the model as it serves
#include <cmath>

#include "kernel_api.h"

namespace temi_kernels {
namespace {

constexpr char RELU[] = "relu";

// [0, rows) cut into a few chunks per core, run in parallel; each chunk's rows run on one
// thread, so a chunk can own an accumulator.
struct RowChunks {
  int64_t rows, count;

  explicit RowChunks(int64_t rows_) : rows(rows_), count(std::max<int64_t>(1, std::min<int64_t>(usableCores() * 4, rows_))) {}

  // body(chunk, row) for every row; `cost` as parallelFor's.
  template <typename Body>
  void forEach(int64_t cost, const Body& body) const {
    parallelFor(count, cost, [&](int64_t k) {
      for (int64_t r = rows * k / count; r < rows * (k + 1) / count; r++) body(k, r);
    });
  }
};

// Per-channel sums over the rows of a [rows, C] matrix, one accumulator array per chunk of rows
// (so threads never share one), added up in chunk order afterwards.
struct ChannelSums {
  RowChunks chunks;
  int64_t channels;
  int slots;
  std::vector<double> partial;  // [chunks, slots, C]

  ChannelSums(int64_t rows, int64_t channels_, int slots_)
      : chunks(rows), channels(channels_), slots(slots_), partial(chunks.count * slots_ * channels_, 0.0) {}

  double* of(int64_t chunk, int slot) { return partial.data() + (chunk * slots + slot) * channels; }

  // The total of `slot` over all chunks, into out[C].
  void total(int slot, std::vector<double>& out) const {
    out.assign(channels, 0.0);
    for (int64_t k = 0; k < chunks.count; k++) {
      const double* p = partial.data() + (k * slots + slot) * channels;
      for (int64_t c = 0; c < channels; c++) out[c] += p[c];
    }
  }
};

TEMI_VECTOR_CLONES
void addRow(const float* x, double* sum, int64_t n) {
  for (int64_t c = 0; c < n; c++) sum[c] += x[c];
}

TEMI_VECTOR_CLONES
void addSquaredDeviationRow(const float* x, const float* mean, double* sum, int64_t n) {
  for (int64_t c = 0; c < n; c++) {
    const float d = x[c] - mean[c];
    sum[c] += static_cast<double>(d) * d;
  }
}

TEMI_VECTOR_CLONES
void normaliseRow(const float* x, const float* mean, const float* scale, const float* beta, float* y, int64_t n, bool relu) {
  for (int64_t c = 0; c < n; c++) {
    const float v = (x[c] - mean[c]) * scale[c] + beta[c];
    y[c] = relu ? std::max(v, 0.0f) : v;
  }
}

// y = (x - mean) gamma / sqrt(variance + epsilon) + beta per channel of [rows, C], then the ReLU.
void normalise(const float* x, const float* mean, const float* variance, const float* gamma, const float* beta, float epsilon, float* y, int64_t rows,
               int64_t channels, bool relu) {
  std::vector<float> scale(channels);
  for (int64_t c = 0; c < channels; c++) scale[c] = gamma[c] / std::sqrt(variance[c] + epsilon);
  RowChunks(rows).forEach(rows * channels, [&](int64_t, int64_t r) {
    normaliseRow(x + r * channels, mean, scale.data(), beta, y + r * channels, channels, relu);
  });
}

// dy where the ReLU passed its input (y > 0), else 0. dy is read either way: a load only some
// lanes make is control flow, which keeps the loops that call this from vectorising below AVX-512.
inline float reluGradient(float dy, float y, bool relu) {
  return relu && y <= 0.0f ? 0.0f : dy;
}

// g = dy masked by the ReLU (y > 0), x_hat = (x - mean) / std; adds g and g x_hat to the sums.
TEMI_VECTOR_CLONES
void gradSumsRow(const float* dy, const float* x, const float* mean, const float* invStd, const float* gamma, const float* beta, double* sumG,
                 double* sumGx, int64_t n, bool relu) {
  for (int64_t c = 0; c < n; c++) {
    const float xHat = (x[c] - mean[c]) * invStd[c];
    const float g = reluGradient(dy[c], xHat * gamma[c] + beta[c], relu);
    sumG[c] += g;
    sumGx[c] += static_cast<double>(g) * xHat;
  }
}

// dx = gamma invStd (g - mean(g) - x_hat mean(g x_hat)).
TEMI_VECTOR_CLONES
void gradRow(const float* dy, const float* x, const float* mean, const float* invStd, const float* gamma, const float* beta, const float* meanG,
             const float* meanGx, float* dx, int64_t n, bool relu) {
  for (int64_t c = 0; c < n; c++) {
    const float xHat = (x[c] - mean[c]) * invStd[c];
    const float g = reluGradient(dy[c], xHat * gamma[c] + beta[c], relu);
    dx[c] = gamma[c] * invStd[c] * (g - meanG[c] - xHat * meanGx[c]);
  }
}

// [rows, C] view of a channels-last tensor whose last axis is C; false when the shapes disagree.
bool channelRows(const TF_Tensor* x, const TF_Tensor* perChannel, int64_t& rows, int64_t& channels) {
  const int rank = tf.NumDims(x);
  if (rank < 1 || tf.NumDims(perChannel) != 1) return false;
  channels = tf.Dim(x, rank - 1);
  rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= tf.Dim(x, d);
  return tf.Dim(perChannel, 0) == channels;
}

void computeBatchNormRelu(void* kernel, TF_OpKernelContext* ctx) {
  const bool relu = intAttr(kernel) != 0;
  int64_t rows = 0, channels = 0;
  runKernel(
      ctx, {-1, 1, 1, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!channelRows(in.tensors[0], in.tensors[1], rows, channels) || tf.Dim(in.tensors[2], 0) != channels || rows < 1) {
          return "TemiStreamBatchNormRelu: gamma and beta must be [C] for x [..., C] with at least one row";
        }
        shapes = {dimsOf(in.tensors[0]), {channels}, {channels}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* x = in.data(0);
        float* mean = out.data(1);
        float* variance = out.data(2);
        // Two passes for the moments, as tf.moments: the mean, then the mean squared deviation.
        ChannelSums sums(rows, channels, 1);
        sums.chunks.forEach(rows * channels, [&](int64_t k, int64_t r) { addRow(x + r * channels, sums.of(k, 0), channels); });
        std::vector<double> total;
        sums.total(0, total);
        for (int64_t c = 0; c < channels; c++) mean[c] = static_cast<float>(total[c] / rows);
        ChannelSums deviations(rows, channels, 1);
        deviations.chunks.forEach(rows * channels, [&](int64_t k, int64_t r) { addSquaredDeviationRow(x + r * channels, mean, deviations.of(k, 0), channels); });
        deviations.total(0, total);
        for (int64_t c = 0; c < channels; c++) variance[c] = static_cast<float>(total[c] / rows);
        normalise(x, mean, variance, in.data(1), in.data(2), *in.data(3), out.data(0), rows, channels, relu);
      });
}

void computeBatchNormReluGrad(void* kernel, TF_OpKernelContext* ctx) {
  const bool relu = intAttr(kernel) != 0;
  int64_t rows = 0, channels = 0;
  runKernel(
      ctx, {-1, -1, 1, 1, 1, 1, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!channelRows(in.tensors[1], in.tensors[2], rows, channels) || dimsOf(in.tensors[0]) != dimsOf(in.tensors[1]) ||
            tf.Dim(in.tensors[3], 0) != channels || tf.Dim(in.tensors[4], 0) != channels || tf.Dim(in.tensors[5], 0) != channels || rows < 1) {
          return "TemiStreamBatchNormReluGrad: dy and x must have one shape [..., C], gamma, beta, mean and variance [C]";
        }
        shapes = {dimsOf(in.tensors[1]), {channels}, {channels}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* dy = in.data(0);
        const float* x = in.data(1);
        const float* gamma = in.data(2);
        const float* beta = in.data(3);
        const float* mean = in.data(4);
        const float* variance = in.data(5);
        const float epsilon = *in.data(6);
        std::vector<float> invStd(channels);
        for (int64_t c = 0; c < channels; c++) invStd[c] = 1.0f / std::sqrt(variance[c] + epsilon);
        ChannelSums sums(rows, channels, 2);
        sums.chunks.forEach(rows * channels, [&](int64_t k, int64_t r) {
          gradSumsRow(dy + r * channels, x + r * channels, mean, invStd.data(), gamma, beta, sums.of(k, 0), sums.of(k, 1), channels, relu);
        });
        std::vector<double> sumG, sumGx;
        sums.total(0, sumG);
        sums.total(1, sumGx);
        float* dgamma = out.data(1);
        float* dbeta = out.data(2);
        std::vector<float> meanG(channels), meanGx(channels);
        for (int64_t c = 0; c < channels; c++) {
          dbeta[c] = static_cast<float>(sumG[c]);
          dgamma[c] = static_cast<float>(sumGx[c]);
          meanG[c] = static_cast<float>(sumG[c] / rows);
          meanGx[c] = static_cast<float>(sumGx[c] / rows);
        }
        float* dx = out.data(0);
        sums.chunks.forEach(rows * channels, [&](int64_t, int64_t r) {
          gradRow(dy + r * channels, x + r * channels, mean, invStd.data(), gamma, beta, meanG.data(), meanGx.data(), dx + r * channels, channels, relu);
        });
      });
}

void computeBatchNormReluInference(void* kernel, TF_OpKernelContext* ctx) {
  const bool relu = intAttr(kernel) != 0;
  int64_t rows = 0, channels = 0;
  runKernel(
      ctx, {-1, 1, 1, 1, 1, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!channelRows(in.tensors[0], in.tensors[1], rows, channels) || tf.Dim(in.tensors[2], 0) != channels || tf.Dim(in.tensors[3], 0) != channels ||
            tf.Dim(in.tensors[4], 0) != channels) {
          return "TemiStreamBatchNormReluInference: gamma, beta, mean and variance must be [C] for x [..., C]";
        }
        shapes = {dimsOf(in.tensors[0])};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        normalise(in.data(0), in.data(3), in.data(4), in.data(1), in.data(2), *in.data(5), out.data(0), rows, channels, relu);
      });
}

}  // namespace

std::string registerBatchNormKernels() {
  std::string error = registerOp("TemiStreamBatchNormRelu", {"x: float", "gamma: float", "beta: float", "epsilon: float"},
                                 {"y: float", "mean: float", "variance: float"}, {"relu: int"}, &createIntAttr<RELU>, &computeBatchNormRelu,
                                 &deleteIntAttr);
  if (error.empty()) {
    error = registerOp("TemiStreamBatchNormReluGrad",
                       {"dy: float", "x: float", "gamma: float", "beta: float", "mean: float", "variance: float", "epsilon: float"},
                       {"dx: float", "dgamma: float", "dbeta: float"}, {"relu: int"}, &createIntAttr<RELU>, &computeBatchNormReluGrad, &deleteIntAttr);
  }
  if (error.empty()) {
    error = registerOp("TemiStreamBatchNormReluInference",
                       {"x: float", "gamma: float", "beta: float", "mean: float", "variance: float", "epsilon: float"}, {"y: float"}, {"relu: int"},
                       &createIntAttr<RELU>, &computeBatchNormReluInference, &deleteIntAttr);
  }
  return error;
}

}  // namespace temi_kernels
