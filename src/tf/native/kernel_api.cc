#include "kernel_api.h"

#include <dlfcn.h>
#include <sched.h>

namespace temi_kernels {

TensorFlowApi tf;

int64_t usableCores() {
  static const int64_t cores = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<int64_t>(CPU_COUNT(&set));
    return static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  }();
  return cores;
}

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

bool getInputs(TF_OpKernelContext* ctx, const std::vector<int>& ranks, Inputs& in, TF_Status* status) {
  for (size_t i = 0; i < ranks.size(); i++) {
    TF_Tensor* t = nullptr;
    tf.GetInput(ctx, static_cast<int>(i), &t, status);
    if (tf.GetCode(status) != TF_OK) return false;
    in.tensors.push_back(t);
    if (tf.TensorType(t) != TF_FLOAT || (ranks[i] >= 0 && tf.NumDims(t) != ranks[i])) {
      const std::string rank = ranks[i] >= 0 ? " of rank " + std::to_string(ranks[i]) : "";
      const std::string message = "input " + std::to_string(i) + " must be a float32 tensor" + rank;
      tf.SetStatus(status, TF_INVALID_ARGUMENT, message.c_str());
      return false;
    }
  }
  return true;
}

bool allocateOutputs(TF_OpKernelContext* ctx, const std::vector<std::vector<int64_t>>& shapes, Outputs& out, TF_Status* status) {
  for (size_t i = 0; i < shapes.size(); i++) {
    int64_t count = 1;
    for (int64_t d : shapes[i]) count *= d;
    TF_Tensor* t = tf.AllocateOutput(ctx, static_cast<int>(i), TF_FLOAT, shapes[i].data(), static_cast<int>(shapes[i].size()), sizeof(float) * count, status);
    if (tf.GetCode(status) != TF_OK) return false;
    out.tensors.push_back(t);
  }
  return true;
}

std::vector<int64_t> dimsOf(const TF_Tensor* t) {
  std::vector<int64_t> dims(tf.NumDims(t));
  for (size_t d = 0; d < dims.size(); d++) dims[d] = tf.Dim(t, static_cast<int>(d));
  return dims;
}

void fail(TF_OpKernelContext* ctx, TF_Status* status, const std::string& message) {
  if (!message.empty()) tf.SetStatus(status, TF_INVALID_ARGUMENT, message.c_str());
  tf.Failure(ctx, status);
}

// Eager execution never asks for output shapes; graph construction would, so say "unknown".
static void unknownShape(TF_ShapeInferenceContext* ctx, TF_Status* status) { tf.SetUnknownShape(ctx, status); }

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

void* readIntAttr(TF_OpKernelConstruction* ctx, const char* name) {
  auto* value = new int64_t(0);
  TF_Status* status = tf.NewStatus();
  tf.GetAttrInt64(ctx, name, value, status);
  if (tf.GetCode(status) != TF_OK) tf.ConstructionFailure(ctx, status);
  tf.DeleteStatus(status);
  return value;
}

void deleteIntAttr(void* state) { delete static_cast<int64_t*>(state); }

// Registers the ops once per process (worker threads share TensorFlow's registries); returns ""
// or why it could not.

}  // namespace temi_kernels
