// Fused CPU kernels for TEMI's heads, registered into the TensorFlow that tfjs-node has loaded.
//
// Why: TensorFlow.js runs each elementwise op as its own kernel that reads and writes a full
// tensor. TEMI's first layer (bias add, exact GELU, the split into per-head matrices, and the
// backward of each) was ~23 such passes over a [rows, heads x hidden] tensor a training step,
// about 40% of the step (docs/BENCHMARKS.md). TensorFlow's own fused MatMul+GELU cannot be reached
// through tfjs-node's binding, so these kernels do each direction in one pass.
//
// How: TensorFlow's stable C kernel API (tensorflow/c/kernels.h, ops.h). Its functions are looked
// up in the libtensorflow_framework.so.2 already in the process (dlopen RTLD_NOLOAD), so this
// addon needs no TensorFlow headers or link step and always binds to tfjs-node's copy of the
// runtime; a second copy would hold a second op registry. The prototypes below are declared from
// that API's documented signatures; the types are opaque.
//
// Ops (CPU, float32), R rows, H heads, P units per head, N = H P:
//   TemiStreamBiasGeluSplit(pre [R, N], bias [N]; heads) -> act [H, R, P]
//       act[h, r, p] = gelu(pre[r, hP + p] + bias[hP + p]), gelu(x) = x Phi(x) (exact erf form)
//   TemiStreamBiasGeluSplitGrad(dact [H, R, P], pre [R, N], bias [N]) -> dpre [R, N], dbias [N]
//       dpre[r, hP + p] = dact[h, r, p] (Phi(x) + x phi(x)), dbias = column sums of dpre
//   TemiStreamBiasL2Normalize(y [H, R, P], bias [H, 1, P]) -> z [H, R, P]
//       z[h, r] = u / max(|u|, 1e-12), u = y[h, r] + bias[h]        (F.normalize of y + bias)
//   TemiStreamBiasL2NormalizeGrad(dz [H, R, P], y, bias) -> dy [H, R, P], dbias [H, 1, P]
//       dy[h, r] = (dz - z (z . dz)) / |u| (dz / 1e-12 where |u| <= 1e-12), dbias = sum over r
//   TemiStreamMovingAverage(average, value, momentum []) -> momentum average + (1 - momentum) value
#include <node_api.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" {
typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
}

namespace {

// TF_Code values and the one TF_DataType used here (tensorflow/c/tf_status.h, tf_datatype.h).
constexpr int TF_OK = 0;
constexpr int TF_INVALID_ARGUMENT = 3;
constexpr int TF_FLOAT = 1;

struct TensorFlowApi {
  TF_Status* (*NewStatus)();
  void (*DeleteStatus)(TF_Status*);
  int (*GetCode)(const TF_Status*);
  const char* (*Message)(const TF_Status*);
  void (*SetStatus)(TF_Status*, int, const char*);
  void* (*TensorData)(const TF_Tensor*);
  int (*NumDims)(const TF_Tensor*);
  int64_t (*Dim)(const TF_Tensor*, int);
  int (*TensorType)(const TF_Tensor*);
  void (*DeleteTensor)(TF_Tensor*);
  void (*GetInput)(TF_OpKernelContext*, int, TF_Tensor**, TF_Status*);
  TF_Tensor* (*AllocateOutput)(TF_OpKernelContext*, int, int, const int64_t*, int, size_t, TF_Status*);
  void (*Failure)(TF_OpKernelContext*, TF_Status*);
  void (*GetAttrInt64)(TF_OpKernelConstruction*, const char*, int64_t*, TF_Status*);
  void (*ConstructionFailure)(TF_OpKernelConstruction*, TF_Status*);
  TF_KernelBuilder* (*NewKernelBuilder)(const char*, const char*, void* (*)(TF_OpKernelConstruction*),
                                        void (*)(void*, TF_OpKernelContext*), void (*)(void*));
  void (*RegisterKernelBuilder)(const char*, TF_KernelBuilder*, TF_Status*);
  TF_OpDefinitionBuilder* (*NewOpDefinitionBuilder)(const char*);
  void (*AddInput)(TF_OpDefinitionBuilder*, const char*);
  void (*AddOutput)(TF_OpDefinitionBuilder*, const char*);
  void (*AddAttr)(TF_OpDefinitionBuilder*, const char*);
  void (*SetShapeInferenceFunction)(TF_OpDefinitionBuilder*, void (*)(TF_ShapeInferenceContext*, TF_Status*));
  void (*SetUnknownShape)(TF_ShapeInferenceContext*, TF_Status*);
  void (*RegisterOpDefinition)(TF_OpDefinitionBuilder*, TF_Status*);
};

TensorFlowApi tf;

// Looks up every function; returns the first missing name, or "" when all are there.
std::string bindApi(void* lib) {
  struct Entry {
    void** slot;
    const char* name;
  };
  const Entry entries[] = {
      {(void**)&tf.NewStatus, "TF_NewStatus"},
      {(void**)&tf.DeleteStatus, "TF_DeleteStatus"},
      {(void**)&tf.GetCode, "TF_GetCode"},
      {(void**)&tf.Message, "TF_Message"},
      {(void**)&tf.SetStatus, "TF_SetStatus"},
      {(void**)&tf.TensorData, "TF_TensorData"},
      {(void**)&tf.NumDims, "TF_NumDims"},
      {(void**)&tf.Dim, "TF_Dim"},
      {(void**)&tf.TensorType, "TF_TensorType"},
      {(void**)&tf.DeleteTensor, "TF_DeleteTensor"},
      {(void**)&tf.GetInput, "TF_GetInput"},
      {(void**)&tf.AllocateOutput, "TF_AllocateOutput"},
      {(void**)&tf.Failure, "TF_OpKernelContext_Failure"},
      {(void**)&tf.GetAttrInt64, "TF_OpKernelConstruction_GetAttrInt64"},
      {(void**)&tf.ConstructionFailure, "TF_OpKernelConstruction_Failure"},
      {(void**)&tf.NewKernelBuilder, "TF_NewKernelBuilder"},
      {(void**)&tf.RegisterKernelBuilder, "TF_RegisterKernelBuilder"},
      {(void**)&tf.NewOpDefinitionBuilder, "TF_NewOpDefinitionBuilder"},
      {(void**)&tf.AddInput, "TF_OpDefinitionBuilderAddInput"},
      {(void**)&tf.AddOutput, "TF_OpDefinitionBuilderAddOutput"},
      {(void**)&tf.AddAttr, "TF_OpDefinitionBuilderAddAttr"},
      {(void**)&tf.SetShapeInferenceFunction, "TF_OpDefinitionBuilderSetShapeInferenceFunction"},
      {(void**)&tf.SetUnknownShape, "TF_ShapeInferenceContextSetUnknownShape"},
      {(void**)&tf.RegisterOpDefinition, "TF_RegisterOpDefinition"},
  };
  for (const Entry& e : entries) {
    *e.slot = dlsym(lib, e.name);
    if (!*e.slot) return e.name;
  }
  return "";
}

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

#define TEMI_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

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

// Runs work(item) for item in [0, items) on up to hardware_concurrency threads, this one
// included, and on fewer when there is little work: `cost` is about how many values all items
// touch, and a thread is worth starting for ~64k of them.
template <typename Work>
void parallelFor(int64_t items, int64_t cost, const Work& work) {
  const int64_t worthwhile = std::max<int64_t>(1, cost / 65536);
  const int64_t threads = std::min({items, worthwhile, static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()))});
  if (threads <= 1) {
    for (int64_t i = 0; i < items; i++) work(i);
    return;
  }
  auto run = [&](int64_t t) {
    for (int64_t i = items * t / threads; i < items * (t + 1) / threads; i++) work(i);
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (int64_t t = 1; t < threads; t++) helpers.emplace_back(run, t);
  run(0);
  for (std::thread& h : helpers) h.join();
}

// ---- kernels ------------------------------------------------------------------------------------

struct Inputs {
  std::vector<TF_Tensor*> tensors;
  ~Inputs() {
    for (TF_Tensor* t : tensors) tf.DeleteTensor(t);
  }
};

// Fetches inputs [0, ranks.size()) as float tensors of the given ranks (-1: any rank); on failure
// sets status.
bool getInputs(TF_OpKernelContext* ctx, const std::vector<int>& ranks, Inputs& in, TF_Status* status) {
  for (size_t i = 0; i < ranks.size(); i++) {
    TF_Tensor* t = nullptr;
    tf.GetInput(ctx, static_cast<int>(i), &t, status);
    if (tf.GetCode(status) != TF_OK) return false;
    in.tensors.push_back(t);
    if (tf.TensorType(t) != TF_FLOAT || (ranks[i] >= 0 && tf.NumDims(t) != ranks[i])) {
      const std::string message = "input " + std::to_string(i) + " must be a float32 tensor of rank " + std::to_string(ranks[i]);
      tf.SetStatus(status, TF_INVALID_ARGUMENT, message.c_str());
      return false;
    }
  }
  return true;
}

void fail(TF_OpKernelContext* ctx, TF_Status* status, const std::string& message) {
  if (!message.empty()) tf.SetStatus(status, TF_INVALID_ARGUMENT, message.c_str());
  tf.Failure(ctx, status);
}

struct SplitAttrs {
  int64_t heads;
};

void* createSplit(TF_OpKernelConstruction* ctx) {
  auto* attrs = new SplitAttrs{1};
  TF_Status* status = tf.NewStatus();
  tf.GetAttrInt64(ctx, "heads", &attrs->heads, status);
  if (tf.GetCode(status) != TF_OK) tf.ConstructionFailure(ctx, status);
  tf.DeleteStatus(status);
  return attrs;
}

void deleteSplit(void* attrs) { delete static_cast<SplitAttrs*>(attrs); }

void computeBiasGeluSplit(void* kernel, TF_OpKernelContext* ctx) {
  const int64_t heads = static_cast<SplitAttrs*>(kernel)->heads;
  TF_Status* status = tf.NewStatus();
  Inputs in;
  if (!getInputs(ctx, {2, 1}, in, status)) {
    fail(ctx, status, "");
  } else {
    const int64_t rows = tf.Dim(in.tensors[0], 0), width = tf.Dim(in.tensors[0], 1);
    if (tf.Dim(in.tensors[1], 0) != width || heads < 1 || width % heads != 0) {
      fail(ctx, status, "TemiStreamBiasGeluSplit: bias must have pre's width, a multiple of heads");
    } else {
      const int64_t per = width / heads;
      const int64_t dims[3] = {heads, rows, per};
      TF_Tensor* out = tf.AllocateOutput(ctx, 0, TF_FLOAT, dims, 3, sizeof(float) * rows * width, status);
      if (tf.GetCode(status) != TF_OK) {
        fail(ctx, status, "");
      } else {
        const float* pre = static_cast<const float*>(tf.TensorData(in.tensors[0]));
        const float* bias = static_cast<const float*>(tf.TensorData(in.tensors[1]));
        float* act = static_cast<float*>(tf.TensorData(out));
        parallelFor(rows, rows * width, [&](int64_t r) {
          for (int64_t h = 0; h < heads; h++) geluRow(pre + r * width + h * per, bias + h * per, act + (h * rows + r) * per, per);
        });
        tf.DeleteTensor(out);
      }
    }
  }
  tf.DeleteStatus(status);
}

void computeBiasGeluSplitGrad(void*, TF_OpKernelContext* ctx) {
  TF_Status* status = tf.NewStatus();
  Inputs in;
  if (!getInputs(ctx, {3, 2, 1}, in, status)) {
    fail(ctx, status, "");
  } else {
    const int64_t heads = tf.Dim(in.tensors[0], 0), rows = tf.Dim(in.tensors[0], 1), per = tf.Dim(in.tensors[0], 2);
    const int64_t width = heads * per;
    if (tf.Dim(in.tensors[1], 0) != rows || tf.Dim(in.tensors[1], 1) != width || tf.Dim(in.tensors[2], 0) != width) {
      fail(ctx, status, "TemiStreamBiasGeluSplitGrad: dact [H, R, P], pre [R, H P] and bias [H P] disagree");
    } else {
      const int64_t preDims[2] = {rows, width};
      const int64_t biasDims[1] = {width};
      TF_Tensor* dpreOut = tf.AllocateOutput(ctx, 0, TF_FLOAT, preDims, 2, sizeof(float) * rows * width, status);
      TF_Tensor* dbiasOut = tf.GetCode(status) == TF_OK ? tf.AllocateOutput(ctx, 1, TF_FLOAT, biasDims, 1, sizeof(float) * width, status) : nullptr;
      if (tf.GetCode(status) != TF_OK) {
        fail(ctx, status, "");
      } else {
        const float* dact = static_cast<const float*>(tf.TensorData(in.tensors[0]));
        const float* pre = static_cast<const float*>(tf.TensorData(in.tensors[1]));
        const float* bias = static_cast<const float*>(tf.TensorData(in.tensors[2]));
        float* dpre = static_cast<float*>(tf.TensorData(dpreOut));
        float* dbias = static_cast<float*>(tf.TensorData(dbiasOut));
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
      }
      if (dpreOut) tf.DeleteTensor(dpreOut);
      if (dbiasOut) tf.DeleteTensor(dbiasOut);
    }
  }
  tf.DeleteStatus(status);
}

// Reads the [H, R, P] dims of input 0; true when the last input is a matching [H, 1, P] bias.
bool headShapes(const Inputs& in, int64_t& heads, int64_t& rows, int64_t& per) {
  heads = tf.Dim(in.tensors[0], 0), rows = tf.Dim(in.tensors[0], 1), per = tf.Dim(in.tensors[0], 2);
  const TF_Tensor* bias = in.tensors.back();
  return tf.Dim(bias, 0) == heads && tf.Dim(bias, 1) == 1 && tf.Dim(bias, 2) == per;
}

void computeBiasL2Normalize(void*, TF_OpKernelContext* ctx) {
  TF_Status* status = tf.NewStatus();
  Inputs in;
  int64_t heads = 0, rows = 0, per = 0;
  if (!getInputs(ctx, {3, 3}, in, status)) {
    fail(ctx, status, "");
  } else if (!headShapes(in, heads, rows, per)) {
    fail(ctx, status, "TemiStreamBiasL2Normalize: y is [H, R, P] and bias must be [H, 1, P]");
  } else {
    const int64_t dims[3] = {heads, rows, per};
    TF_Tensor* out = tf.AllocateOutput(ctx, 0, TF_FLOAT, dims, 3, sizeof(float) * heads * rows * per, status);
    if (tf.GetCode(status) != TF_OK) {
      fail(ctx, status, "");
    } else {
      const float* y = static_cast<const float*>(tf.TensorData(in.tensors[0]));
      const float* bias = static_cast<const float*>(tf.TensorData(in.tensors[1]));
      float* z = static_cast<float*>(tf.TensorData(out));
      parallelFor(heads * rows, heads * rows * per, [&](int64_t row) {
        normalizeRow(y + row * per, bias + (row / rows) * per, z + row * per, per);
      });
      tf.DeleteTensor(out);
    }
  }
  tf.DeleteStatus(status);
}

void computeBiasL2NormalizeGrad(void*, TF_OpKernelContext* ctx) {
  TF_Status* status = tf.NewStatus();
  Inputs in;
  int64_t heads = 0, rows = 0, per = 0;
  if (!getInputs(ctx, {3, 3, 3}, in, status)) {
    fail(ctx, status, "");
  } else if (!headShapes(in, heads, rows, per) || tf.Dim(in.tensors[1], 0) != heads || tf.Dim(in.tensors[1], 1) != rows ||
             tf.Dim(in.tensors[1], 2) != per) {
    fail(ctx, status, "TemiStreamBiasL2NormalizeGrad: dz and y must be [H, R, P] and bias [H, 1, P]");
  } else {
    const int64_t dims[3] = {heads, rows, per};
    const int64_t biasDims[3] = {heads, 1, per};
    TF_Tensor* dyOut = tf.AllocateOutput(ctx, 0, TF_FLOAT, dims, 3, sizeof(float) * heads * rows * per, status);
    TF_Tensor* dbiasOut = tf.GetCode(status) == TF_OK ? tf.AllocateOutput(ctx, 1, TF_FLOAT, biasDims, 3, sizeof(float) * heads * per, status) : nullptr;
    if (tf.GetCode(status) != TF_OK) {
      fail(ctx, status, "");
    } else {
      const float* dz = static_cast<const float*>(tf.TensorData(in.tensors[0]));
      const float* y = static_cast<const float*>(tf.TensorData(in.tensors[1]));
      const float* bias = static_cast<const float*>(tf.TensorData(in.tensors[2]));
      float* dy = static_cast<float*>(tf.TensorData(dyOut));
      float* dbias = static_cast<float*>(tf.TensorData(dbiasOut));
      // One item per head, so each head's bias sum has one writer.
      parallelFor(heads, heads * rows * per, [&](int64_t h) {
        float* sums = dbias + h * per;
        std::fill(sums, sums + per, 0.0f);
        for (int64_t r = 0; r < rows; r++) {
          const int64_t at = (h * rows + r) * per;
          normalizeGradRow(dz + at, y + at, bias + h * per, dy + at, sums, per);
        }
      });
    }
    if (dyOut) tf.DeleteTensor(dyOut);
    if (dbiasOut) tf.DeleteTensor(dbiasOut);
  }
  tf.DeleteStatus(status);
}

void computeMovingAverage(void*, TF_OpKernelContext* ctx) {
  TF_Status* status = tf.NewStatus();
  Inputs in;
  if (!getInputs(ctx, {-1, -1, 0}, in, status)) {
    fail(ctx, status, "");
  } else {
    const TF_Tensor* average = in.tensors[0];
    const int rank = tf.NumDims(average);
    std::vector<int64_t> dims(rank);
    int64_t count = 1;
    bool same = tf.NumDims(in.tensors[1]) == rank;
    for (int d = 0; d < rank; d++) {
      dims[d] = tf.Dim(average, d);
      count *= dims[d];
      same = same && tf.Dim(in.tensors[1], d) == dims[d];
    }
    if (!same) {
      fail(ctx, status, "TemiStreamMovingAverage: average and value must have the same shape");
    } else {
      TF_Tensor* out = tf.AllocateOutput(ctx, 0, TF_FLOAT, dims.data(), rank, sizeof(float) * count, status);
      if (tf.GetCode(status) != TF_OK) {
        fail(ctx, status, "");
      } else {
        const float* a = static_cast<const float*>(tf.TensorData(in.tensors[0]));
        const float* v = static_cast<const float*>(tf.TensorData(in.tensors[1]));
        const float momentum = *static_cast<const float*>(tf.TensorData(in.tensors[2]));
        float* o = static_cast<float*>(tf.TensorData(out));
        constexpr int64_t SPAN = 16384;
        parallelFor((count + SPAN - 1) / SPAN, count, [&](int64_t i) {
          movingAverageSpan(a + i * SPAN, v + i * SPAN, momentum, o + i * SPAN, std::min(SPAN, count - i * SPAN));
        });
        tf.DeleteTensor(out);
      }
    }
  }
  tf.DeleteStatus(status);
}

// ---- registration -------------------------------------------------------------------------------

void unknownShape(TF_ShapeInferenceContext* ctx, TF_Status* status) { tf.SetUnknownShape(ctx, status); }

std::string registerOp(const char* name, const std::vector<const char*>& inputs, const std::vector<const char*>& outputs,
                       const std::vector<const char*>& attrs, void* (*create)(TF_OpKernelConstruction*),
                       void (*compute)(void*, TF_OpKernelContext*), void (*destroy)(void*)) {
  TF_Status* status = tf.NewStatus();
  TF_OpDefinitionBuilder* op = tf.NewOpDefinitionBuilder(name);
  for (const char* spec : inputs) tf.AddInput(op, spec);
  for (const char* spec : outputs) tf.AddOutput(op, spec);
  for (const char* spec : attrs) tf.AddAttr(op, spec);
  tf.SetShapeInferenceFunction(op, &unknownShape);
  tf.RegisterOpDefinition(op, status);
  if (tf.GetCode(status) == TF_OK) {
    TF_KernelBuilder* kernel = tf.NewKernelBuilder(name, "CPU", create, compute, destroy);
    tf.RegisterKernelBuilder(name, kernel, status);
  }
  std::string error = tf.GetCode(status) == TF_OK ? "" : std::string(name) + ": " + tf.Message(status);
  tf.DeleteStatus(status);
  return error;
}

void* noState(TF_OpKernelConstruction*) { return nullptr; }
void deleteNothing(void*) {}

// Registers the ops once per process (worker threads share TensorFlow's registries); returns ""
// or why it could not.
std::string registerKernels() {
  static std::mutex lock;
  static bool done = false;
  static std::string error;
  std::lock_guard<std::mutex> guard(lock);
  if (done) return error;
  done = true;
  void* lib = dlopen("libtensorflow_framework.so.2", RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return error = "libtensorflow_framework.so.2 is not loaded in this process (load the tensorflow backend first)";
  const std::string missing = bindApi(lib);
  if (!missing.empty()) return error = "the loaded TensorFlow lacks " + missing;
  error = registerOp("TemiStreamBiasGeluSplit", {"pre: float", "bias: float"}, {"act: float"}, {"heads: int >= 1"},
                     &createSplit, &computeBiasGeluSplit, &deleteSplit);
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

napi_value Register(napi_env env, napi_callback_info) {
  const std::string error = registerKernels();
  napi_value result;
  if (error.empty()) {
    napi_get_null(env, &result);
  } else {
    napi_create_string_utf8(env, error.c_str(), error.size(), &result);
  }
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "register", NAPI_AUTO_LENGTH, Register, nullptr, &fn);
  napi_set_named_property(env, exports, "register", fn);
  return exports;
}
