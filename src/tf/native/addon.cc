// temi_kernels.node: fused CPU kernels for TEMI, registered into the TensorFlow that tfjs-node has
// loaded (src/tf/fused-kernels.ts calls them; docs/NATIVE_TENSORFLOW.md), and a SavedModel session
// that takes its input without a copy (session_runner.cc; src/tf/native-session.ts).
//
// Why: TensorFlow.js runs each elementwise op as its own kernel that reads and writes a full
// tensor. TEMI's first layer alone (bias add, exact GELU, the split into per-head matrices, and the
// backward of each) was ~23 such passes over a [rows, heads x hidden] tensor a training step,
// about 40% of the step (docs/BENCHMARKS.md), and its loss ~150 small kernels; MMDC's batch norm
// and ReLU ~35 passes over the activations of each layer. TensorFlow's own fused MatMul+GELU
// cannot be reached through tfjs-node's binding, and TensorFlow.js composes batch norm from
// small ops, so these do each in one pass.
//
// How: TensorFlow's stable C kernel API (kernel_api.h). Its functions are looked up in the
// libtensorflow_framework.so.2 already in the process (dlopen RTLD_NOLOAD), so this addon needs no
// TensorFlow headers or link step and always binds to tfjs-node's copy of the runtime; a second
// copy would hold a second op registry.
//
// Ops (CPU, float32), R rows, H heads, P units per head, N = H P, C clusters, B pairs (R = 2B):
//   head_kernels.cc
//   TemiStreamBiasGeluSplit(pre [R, N], bias [N]; heads) -> act [H, R, P]
//       act[h, r, p] = gelu(pre[r, hP + p] + bias[hP + p]), gelu(x) = x Phi(x) (exact erf form)
//   TemiStreamBiasGeluSplitGrad(dact [H, R, P], pre [R, N], bias [N]) -> dpre [R, N], dbias [N]
//       dpre[r, hP + p] = dact[h, r, p] (Phi(x) + x phi(x)), dbias = column sums of dpre
//   TemiStreamBiasL2Normalize(y [H, R, P], bias [H, 1, P]) -> z [H, R, P]
//       z[h, r] = u / max(|u|, 1e-12), u = y[h, r] + bias[h]        (F.normalize of y + bias)
//   TemiStreamBiasL2NormalizeGrad(dz [H, R, P], y, bias) -> dy [H, R, P], dbias [H, 1, P]
//       dy[h, r] = (dz - z (z . dz)) / |u| (dz / 1e-12 where |u| <= 1e-12), dbias = sum over r
//   TemiStreamMovingAverage(average, value, momentum []) -> momentum average + (1 - momentum) value
//   loss_kernels.cc (the functions of src/clustering/temi/temi-loss.ts)
//   TemiStreamTeacherTargets(logits [H, R, C], marginal [H, 1, C], temperature [], momentum [])
//       -> log probabilities [H, R, C], updated marginal [H, 1, C], pair weights [B]
//   TemiStreamTemiLoss(student [H, R, C], log teacher [H, R, C], log marginal [H, 1, C],
//       pair weights [B], beta [], temperature []) -> per-head losses [H]
//   TemiStreamTemiLossGrad(dlosses [H], the same six) -> dstudent [H, R, C]
//   batch_norm_kernels.cc (MMDC's ConvNet, training mode, channels last)
//   TemiStreamBatchNormRelu(x [..., C], gamma [C], beta [C], epsilon []; relu) -> y, mean [C], variance [C]
//   TemiStreamBatchNormReluGrad(dy, x, gamma, beta, mean, variance, epsilon []; relu) -> dx, dgamma, dbeta
//   TemiStreamBatchNormReluInference(x, gamma, beta, mean, variance, epsilon []; relu) -> y (eval mode)
#include <node_api.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "kernel_api.h"
#include "session_runner.h"

namespace temi_kernels {
namespace {

// The public layout of TensorFlow's TF_Buffer (tensorflow/c/tf_buffer.h).
struct Buffer {
  const void* data;
  size_t length;
  void (*deallocator)(void*, size_t);
};

// True when TensorFlow already knows the op `name`: registering it again is a fatal error in
// TensorFlow, and it happens when this addon is unloaded and loaded again in one process (a worker
// thread that loaded it first exits) or a second build of it is loaded. The op list is a serialized
// OpList; an OpDef's name is its field 1, so the bytes 0x0a, length, name mark that exact name.
bool alreadyRegistered(const char* name) {
  void* cc = dlopen("libtensorflow_cc.so.2", RTLD_NOW | RTLD_NOLOAD);
  auto allOps = cc ? reinterpret_cast<Buffer* (*)()>(dlsym(cc, "TF_GetAllOpList")) : nullptr;
  auto deleteBuffer = cc ? reinterpret_cast<void (*)(Buffer*)>(dlsym(cc, "TF_DeleteBuffer")) : nullptr;
  if (!allOps || !deleteBuffer) return false;
  Buffer* ops = allOps();
  const std::string marker = std::string("\x0a") + static_cast<char>(std::strlen(name)) + name;
  const char* begin = static_cast<const char*>(ops->data);
  const bool found = std::search(begin, begin + ops->length, marker.begin(), marker.end()) != begin + ops->length;
  deleteBuffer(ops);
  return found;
}

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
  if (alreadyRegistered("TemiStreamBiasGeluSplit")) return error;
  error = registerHeadKernels();
  if (error.empty()) error = registerLossKernels();
  if (error.empty()) error = registerBatchNormKernels();
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
}  // namespace temi_kernels

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "register", NAPI_AUTO_LENGTH, temi_kernels::Register, nullptr, &fn);
  napi_set_named_property(env, exports, "register", fn);
  temi_kernels::defineSessionFunctions(env, exports);
  return exports;
}
