// TEMI's heads: bias + exact GELU + head split, bias + L2 normalisation, the backward of each,
// and the teacher's moving average (the ops are listed in addon.cc).
#include <cmath>
#include <cstring>

#include "kernel_api.h"

namespace temi_kernels {
namespace {

// ---- math: branch-free so the compiler vectorises the loops that call it -----------------------

// e^x for x <= 0 (the only arguments used here), relative error ~2e-7: 2^n by exponent bits times
// a degree-7 Taylor polynomial on the reduced argument |r| <= ln2 / 2.
inline float expNonPositive(float x) {
  x = std::max(x, -87.0f);
  const float n = std::nearbyint(x * 1.44269504f);
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  float p = 1.98412698e-4f;
  p = p * r + 1.38888889e-3f;
  p = p * r + 8.33333333e-3f;
  p = p * r + 4.16666667e-2f;
  p = p * r + 1.66666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// Standard normal CDF and density at x. Phi from erfc by Abramowitz & Stegun 7.1.26 (absolute
// error <= 1.5e-7 in erfc, so <= 7.5e-8 in Phi), evaluated on |x| so the tail is a product, not
// a difference; both share exp(-x^2 / 2).
struct NormalAt {
  float cdf;
  float density;
};

inline NormalAt normalAt(float x) {
  const float z = std::fabs(x) * 0.70710678f;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  const float e = expNonPositive(-z * z);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float upperTail = 0.5f * poly * e;  // Phi(-|x|)
  return {x >= 0.0f ? 1.0f - upperTail : upperTail, e * 0.398942280f};
}

// ---- the loops (one clone per instruction set, picked at load) -----------------------------------

TEMI_VECTOR_CLONES
void geluRow(const float* pre, const float* bias, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float x = pre[i] + bias[i];
    out[i] = x * normalAt(x).cdf;
  }
}

TEMI_VECTOR_CLONES
void geluGradRow(const float* dact, const float* pre, const float* bias, float* dpre, float* dbias, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float x = pre[i] + bias[i];
    const NormalAt at = normalAt(x);
    const float g = dact[i] * (at.cdf + x * at.density);
    dpre[i] = g;
    dbias[i] += g;
  }
}

constexpr float NORM_EPSILON = 1e-12f;

// sum_i term(i) in lanes of partial sums: a float sum in one accumulator is a serial chain the
// compiler may not reorder, so it would neither vectorise nor pipeline.
template <typename Term>
inline float laneSum(int64_t n, const Term& term) {
  constexpr int LANES = 16;
  float part[LANES] = {};
  int64_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    for (int j = 0; j < LANES; j++) part[j] += term(i + j);
  }
  float total = 0.0f;
  for (int j = 0; j < LANES; j++) total += part[j];
  for (; i < n; i++) total += term(i);
  return total;
}

// |y + bias| of one row.
inline float normOfSum(const float* y, const float* bias, int64_t n) {
  return std::sqrt(laneSum(n, [&](int64_t i) {
    const float u = y[i] + bias[i];
    return u * u;
  }));
}

// z = u / max(|u|, eps) for u = y + bias, one row; returns |u|.
TEMI_VECTOR_CLONES
float normalizeRow(const float* y, const float* bias, float* z, int64_t n) {
  const float norm = normOfSum(y, bias, n);
  const float inverse = 1.0f / std::max(norm, NORM_EPSILON);
  for (int64_t i = 0; i < n; i++) z[i] = (y[i] + bias[i]) * inverse;
  return norm;
}

// The backward of normalizeRow, one row: dy = (dz - z (z . dz)) / |u|, added into dbias too.
TEMI_VECTOR_CLONES
void normalizeGradRow(const float* dz, const float* y, const float* bias, float* dy, float* dbias, int64_t n) {
  const float norm = normOfSum(y, bias, n);
  if (norm <= NORM_EPSILON) {
    // The denominator is the constant epsilon there: only the division's gradient flows.
    for (int64_t i = 0; i < n; i++) {
      dy[i] = dz[i] / NORM_EPSILON;
      dbias[i] += dy[i];
    }
    return;
  }
  const float inverse = 1.0f / norm;
  const float dot = inverse * laneSum(n, [&](int64_t i) { return (y[i] + bias[i]) * dz[i]; });
  for (int64_t i = 0; i < n; i++) {
    const float z = (y[i] + bias[i]) * inverse;
    dy[i] = (dz[i] - z * dot) * inverse;
    dbias[i] += dy[i];
  }
}

TEMI_VECTOR_CLONES
void movingAverageSpan(const float* average, const float* value, float momentum, float* out, int64_t n) {
  const float rest = 1.0f - momentum;
  for (int64_t i = 0; i < n; i++) out[i] = average[i] * momentum + value[i] * rest;
}

constexpr char HEADS[] = "heads";

void computeBiasGeluSplit(void* kernel, TF_OpKernelContext* ctx) {
  const int64_t heads = intAttr(kernel);
  int64_t rows = 0, width = 0;
  runKernel(
      ctx, {2, 1},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        rows = tf.Dim(in.tensors[0], 0), width = tf.Dim(in.tensors[0], 1);
        if (tf.Dim(in.tensors[1], 0) != width || heads < 1 || width % heads != 0) {
          return "TemiStreamBiasGeluSplit: bias must have pre's width, a multiple of heads";
        }
        shapes = {{heads, rows, width / heads}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const int64_t per = width / heads;
        const float* pre = in.data(0);
        const float* bias = in.data(1);
        float* act = out.data(0);
        parallelFor(rows, rows * width, [&](int64_t r) {
          for (int64_t h = 0; h < heads; h++) geluRow(pre + r * width + h * per, bias + h * per, act + (h * rows + r) * per, per);
        });
      });
}

void computeBiasGeluSplitGrad(void*, TF_OpKernelContext* ctx) {
  int64_t heads = 0, rows = 0, per = 0, width = 0;
  runKernel(
      ctx, {3, 2, 1},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        heads = tf.Dim(in.tensors[0], 0), rows = tf.Dim(in.tensors[0], 1), per = tf.Dim(in.tensors[0], 2), width = heads * per;
        if (tf.Dim(in.tensors[1], 0) != rows || tf.Dim(in.tensors[1], 1) != width || tf.Dim(in.tensors[2], 0) != width) {
          return "TemiStreamBiasGeluSplitGrad: dact [H, R, P], pre [R, H P] and bias [H P] disagree";
        }
        shapes = {{rows, width}, {width}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* dact = in.data(0);
        const float* pre = in.data(1);
        const float* bias = in.data(2);
        float* dpre = out.data(0);
        float* dbias = out.data(1);
        // Work items are column blocks, so each bias sum has one writer and no reduction step.
        constexpr int64_t BLOCK = 128;
        const int64_t blocksPerHead = (per + BLOCK - 1) / BLOCK;
        parallelFor(heads * blocksPerHead, rows * width, [&](int64_t item) {
          const int64_t h = item / blocksPerHead, p0 = (item % blocksPerHead) * BLOCK;
          const int64_t n = std::min(BLOCK, per - p0), column = h * per + p0;
          float* sums = dbias + column;
          std::fill(sums, sums + n, 0.0f);
          for (int64_t r = 0; r < rows; r++) {
            geluGradRow(dact + (h * rows + r) * per + p0, pre + r * width + column, bias + column, dpre + r * width + column, sums, n);
          }
        });
      });
}

// Reads the [H, R, P] dims of input 0; true when the last input is a matching [H, 1, P] bias.
bool headShapes(const Inputs& in, int64_t& heads, int64_t& rows, int64_t& per) {
  heads = tf.Dim(in.tensors[0], 0), rows = tf.Dim(in.tensors[0], 1), per = tf.Dim(in.tensors[0], 2);
  const TF_Tensor* bias = in.tensors.back();
  return tf.Dim(bias, 0) == heads && tf.Dim(bias, 1) == 1 && tf.Dim(bias, 2) == per;
}

void computeBiasL2Normalize(void*, TF_OpKernelContext* ctx) {
  int64_t heads = 0, rows = 0, per = 0;
  runKernel(
      ctx, {3, 3},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!headShapes(in, heads, rows, per)) return "TemiStreamBiasL2Normalize: y is [H, R, P] and bias must be [H, 1, P]";
        shapes = {{heads, rows, per}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* y = in.data(0);
        const float* bias = in.data(1);
        float* z = out.data(0);
        parallelFor(heads * rows, heads * rows * per, [&](int64_t row) { normalizeRow(y + row * per, bias + (row / rows) * per, z + row * per, per); });
      });
}

void computeBiasL2NormalizeGrad(void*, TF_OpKernelContext* ctx) {
  int64_t heads = 0, rows = 0, per = 0;
  runKernel(
      ctx, {3, 3, 3},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        if (!headShapes(in, heads, rows, per) || dimsOf(in.tensors[1]) != dimsOf(in.tensors[0])) {
          return "TemiStreamBiasL2NormalizeGrad: dz and y must be [H, R, P] and bias [H, 1, P]";
        }
        shapes = {{heads, rows, per}, {heads, 1, per}};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* dz = in.data(0);
        const float* y = in.data(1);
        const float* bias = in.data(2);
        float* dy = out.data(0);
        float* dbias = out.data(1);
        // One item per head, so each head's bias sum has one writer.
        parallelFor(heads, heads * rows * per, [&](int64_t h) {
          float* sums = dbias + h * per;
          std::fill(sums, sums + per, 0.0f);
          for (int64_t r = 0; r < rows; r++) {
            const int64_t at = (h * rows + r) * per;
            normalizeGradRow(dz + at, y + at, bias + h * per, dy + at, sums, per);
          }
        });
      });
}

void computeMovingAverage(void*, TF_OpKernelContext* ctx) {
  int64_t count = 0;
  runKernel(
      ctx, {-1, -1, 0},
      [&](const Inputs& in, Shapes& shapes) -> std::string {
        const std::vector<int64_t> dims = dimsOf(in.tensors[0]);
        if (dimsOf(in.tensors[1]) != dims) return "TemiStreamMovingAverage: average and value must have the same shape";
        count = 1;
        for (int64_t d : dims) count *= d;
        shapes = {dims};
        return "";
      },
      [&](const Inputs& in, const Outputs& out) {
        const float* a = in.data(0);
        const float* v = in.data(1);
        const float momentum = *in.data(2);
        float* o = out.data(0);
        constexpr int64_t SPAN = 16384;
        parallelFor((count + SPAN - 1) / SPAN, count, [&](int64_t i) {
          movingAverageSpan(a + i * SPAN, v + i * SPAN, momentum, o + i * SPAN, std::min(SPAN, count - i * SPAN));
        });
      });
}

}  // namespace

std::string registerHeadKernels() {
  std::string error = registerOp("TemiStreamBiasGeluSplit", {"pre: float", "bias: float"}, {"act: float"}, {"heads: int >= 1"},
                                 &createIntAttr<HEADS>, &computeBiasGeluSplit, &deleteIntAttr);
  if (error.empty()) {
    error = registerOp("TemiStreamBiasGeluSplitGrad", {"dact: float", "pre: float", "bias: float"}, {"dpre: float", "dbias: float"}, {},
                       &noState, &computeBiasGeluSplitGrad, &deleteNothing);
  }
  if (error.empty()) {
    error = registerOp("TemiStreamBiasL2Normalize", {"y: float", "bias: float"}, {"z: float"}, {}, &noState,
                       &computeBiasL2Normalize, &deleteNothing);
  }
  if (error.empty()) {
    error = registerOp("TemiStreamBiasL2NormalizeGrad", {"dz: float", "y: float", "bias: float"}, {"dy: float", "dbias: float"}, {},
                       &noState, &computeBiasL2NormalizeGrad, &deleteNothing);
  }
  if (error.empty()) {
    error = registerOp("TemiStreamMovingAverage", {"average: float", "value: float", "momentum: float"}, {"out: float"}, {},
                       &noState, &computeMovingAverage, &deleteNothing);
  }
  return error;
}

}  // namespace temi_kernels
