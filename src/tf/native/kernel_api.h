// The part of TensorFlow's C kernel API (tensorflow/c/kernels.h, ops.h, tf_tensor.h, tf_status.h)
// the fused kernels use, looked up at load in the TensorFlow already in the process (addon.cc),
// and the helpers every kernel shares. The prototypes are declared here from that API's
// documented signatures; the types are opaque.
#pragma once

#include <algorithm>
#include <cstdint>
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

namespace temi_kernels {

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

extern TensorFlowApi tf;

// Looks up every function in `lib`; returns the first missing name, or "" when all are there.
std::string bindApi(void* lib);

// Hot loops get one clone per instruction set; the CPU picks one when the addon loads.
#define TEMI_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// The cores this process may run on (its CPU affinity, which a container's cpuset limits), at
// least 1.
int64_t usableCores();

// Runs work(item) for item in [0, items) on up to usableCores() threads, this one included, and
// on fewer when there is little work: `cost` is about how many values all items touch, and a
// thread is worth starting for ~64k of them.
template <typename Work>
void parallelFor(int64_t items, int64_t cost, const Work& work) {
  const int64_t worthwhile = std::max<int64_t>(1, cost / 65536);
  const int64_t threads = std::min({items, worthwhile, usableCores()});
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

// A kernel's inputs as fetched; the references are dropped when this goes.
struct Inputs {
  std::vector<TF_Tensor*> tensors;
  ~Inputs() {
    for (TF_Tensor* t : tensors) tf.DeleteTensor(t);
  }
  const float* data(size_t i) const { return static_cast<const float*>(tf.TensorData(tensors[i])); }
};

// A kernel's outputs as allocated, in order; the references are dropped when this goes (the
// kernel context keeps its own).
struct Outputs {
  std::vector<TF_Tensor*> tensors;
  ~Outputs() {
    for (TF_Tensor* t : tensors) tf.DeleteTensor(t);
  }
  float* data(size_t i) const { return static_cast<float*>(tf.TensorData(tensors[i])); }
};

// Allocates float outputs 0, 1, ... with the given dims; false (and status set) on a failure.
bool allocateOutputs(TF_OpKernelContext* ctx, const std::vector<std::vector<int64_t>>& shapes, Outputs& out, TF_Status* status);

// Fetches inputs [0, ranks.size()) as float tensors of the given ranks (-1: any rank); on failure
// sets status.
bool getInputs(TF_OpKernelContext* ctx, const std::vector<int>& ranks, Inputs& in, TF_Status* status);

// Marks the kernel failed, with `message` as the status when it is not empty.
void fail(TF_OpKernelContext* ctx, TF_Status* status, const std::string& message);

using Shapes = std::vector<std::vector<int64_t>>;

// A tensor's dims.
std::vector<int64_t> dimsOf(const TF_Tensor* t);

// The frame every kernel shares: fetch its float inputs (ranks as getInputs), let `check` say what
// is wrong with them ("" when nothing) and set the output shapes, allocate the outputs, run `body`.
// Any failure becomes the op's error, and then nothing is computed.
//   check: std::string(const Inputs&, Shapes&)      body: void(const Inputs&, const Outputs&)
template <typename Check, typename Body>
void runKernel(TF_OpKernelContext* ctx, const std::vector<int>& ranks, const Check& check, const Body& body) {
  TF_Status* status = tf.NewStatus();
  Inputs in;
  Outputs out;
  Shapes shapes;
  if (!getInputs(ctx, ranks, in, status)) {
    fail(ctx, status, "");
  } else if (const std::string problem = check(in, shapes); !problem.empty()) {
    fail(ctx, status, problem);
  } else if (!allocateOutputs(ctx, shapes, out, status)) {
    fail(ctx, status, "");
  } else {
    body(in, out);
  }
  tf.DeleteStatus(status);
}

// Registers an op (its inputs, outputs and attributes as TensorFlow op-spec strings) and its CPU
// kernel; returns "" or the error.
std::string registerOp(const char* name, const std::vector<const char*>& inputs, const std::vector<const char*>& outputs,
                       const std::vector<const char*>& attrs, void* (*create)(TF_OpKernelConstruction*),
                       void (*compute)(void*, TF_OpKernelContext*), void (*destroy)(void*));

// create/delete for kernels without attributes.
void* noState(TF_OpKernelConstruction*);
void deleteNothing(void*);

// create/delete for kernels with one int attribute `Name`: the kernel's state is its value.
void* readIntAttr(TF_OpKernelConstruction* ctx, const char* name);
template <const char* Name>
void* createIntAttr(TF_OpKernelConstruction* ctx) {
  return readIntAttr(ctx, Name);
}
void deleteIntAttr(void* state);
inline int64_t intAttr(void* state) { return *static_cast<int64_t*>(state); }

// Each kernel file registers its ops; "" or the first error.
std::string registerHeadKernels();
std::string registerLossKernels();
std::string registerBatchNormKernels();

}  // namespace temi_kernels
