// A SavedModel as one TensorFlow session whose input is the caller's Float32Array itself.
//
// Why: tfjs-node runs a SavedModel on tfjs tensors, and a tfjs tensor made from a Float32Array is
// copied into a freshly allocated TensorFlow tensor on its first use. For a batch of 64 224x224 RGB
// images that is 38.5 MB into memory the kernel maps afresh every batch: on an H200 15.5 ms of a
// 29 ms batch, more than the session itself (docs/BENCHMARKS.md, "Where a batch's time goes").
// Here the JavaScript buffer is wrapped as the input tensor (TF_NewTensor with a deallocator that
// frees nothing), so the session reads the pages the pipeline already wrote, and only the output
// rows are copied out.
//
// TensorFlow takes a caller's buffer without copying only when it is aligned for Eigen (64 bytes);
// alignedFloat32Array makes such buffers. An unaligned one still works: TensorFlow copies it.
//
// The session API is looked up in the TensorFlow tfjs-node has loaded (libtensorflow_cc.so.2 from a
// pip wheel, libtensorflow.so.2 from Google's C library), like the kernels' API, so sessions here
// share that runtime's devices and GPU memory.
#include "session_runner.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_Graph TF_Graph;
typedef struct TF_Session TF_Session;
typedef struct TF_SessionOptions TF_SessionOptions;
typedef struct TF_Operation TF_Operation;
typedef struct TF_Buffer TF_Buffer;
}

namespace temi_kernels {
namespace {

constexpr int kOk = 0;
constexpr int kFloat = 1;
constexpr size_t kAlignment = 64;
constexpr const char* kErrorCode = "TS_ERR_NATIVE_SESSION";

// tensorflow/c/c_api.h's TF_Output.
struct Output {
  TF_Operation* oper;
  int index;
};

struct SessionApi {
  TF_Status* (*NewStatus)();
  void (*DeleteStatus)(TF_Status*);
  int (*GetCode)(const TF_Status*);
  const char* (*Message)(const TF_Status*);
  TF_Graph* (*NewGraph)();
  void (*DeleteGraph)(TF_Graph*);
  TF_SessionOptions* (*NewSessionOptions)();
  void (*DeleteSessionOptions)(TF_SessionOptions*);
  TF_Session* (*LoadSessionFromSavedModel)(const TF_SessionOptions*, const TF_Buffer*, const char*, const char* const*, int, TF_Graph*,
                                           TF_Buffer*, TF_Status*);
  void (*CloseSession)(TF_Session*, TF_Status*);
  void (*DeleteSession)(TF_Session*, TF_Status*);
  TF_Operation* (*GraphOperationByName)(TF_Graph*, const char*);
  TF_Tensor* (*NewTensor)(int, const int64_t*, int, void*, size_t, void (*)(void*, size_t, void*), void*);
  void (*SessionRun)(TF_Session*, const TF_Buffer*, const Output*, TF_Tensor* const*, int, const Output*, TF_Tensor**, int,
                     const TF_Operation* const*, int, TF_Buffer*, TF_Status*);
  void* (*TensorData)(const TF_Tensor*);
  size_t (*TensorByteSize)(const TF_Tensor*);
  int (*NumDims)(const TF_Tensor*);
  int64_t (*Dim)(const TF_Tensor*, int);
  int (*TensorType)(const TF_Tensor*);
  void (*DeleteTensor)(TF_Tensor*);
};

SessionApi api;

// Binds the API once per process; "" or why not.
std::string bindSessionApi() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    void* lib = dlopen("libtensorflow_cc.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) lib = dlopen("libtensorflow.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) {
      error = "TensorFlow's C API (libtensorflow_cc.so.2 or libtensorflow.so.2) is not loaded in this process (load the tensorflow backend first)";
      return;
    }
    struct Entry {
      void** slot;
      const char* name;
    };
    const Entry entries[] = {
        {(void**)&api.NewStatus, "TF_NewStatus"},
        {(void**)&api.DeleteStatus, "TF_DeleteStatus"},
        {(void**)&api.GetCode, "TF_GetCode"},
        {(void**)&api.Message, "TF_Message"},
        {(void**)&api.NewGraph, "TF_NewGraph"},
        {(void**)&api.DeleteGraph, "TF_DeleteGraph"},
        {(void**)&api.NewSessionOptions, "TF_NewSessionOptions"},
        {(void**)&api.DeleteSessionOptions, "TF_DeleteSessionOptions"},
        {(void**)&api.LoadSessionFromSavedModel, "TF_LoadSessionFromSavedModel"},
        {(void**)&api.CloseSession, "TF_CloseSession"},
        {(void**)&api.DeleteSession, "TF_DeleteSession"},
        {(void**)&api.GraphOperationByName, "TF_GraphOperationByName"},
        {(void**)&api.NewTensor, "TF_NewTensor"},
        {(void**)&api.SessionRun, "TF_SessionRun"},
        {(void**)&api.TensorData, "TF_TensorData"},
        {(void**)&api.TensorByteSize, "TF_TensorByteSize"},
        {(void**)&api.NumDims, "TF_NumDims"},
        {(void**)&api.Dim, "TF_Dim"},
        {(void**)&api.TensorType, "TF_TensorType"},
        {(void**)&api.DeleteTensor, "TF_DeleteTensor"},
    };
    for (const Entry& e : entries) {
      *e.slot = dlsym(lib, e.name);
      if (!*e.slot) {
        error = std::string("the loaded TensorFlow lacks ") + e.name;
        return;
      }
    }
  });
  return error;
}

struct Session {
  TF_Graph* graph = nullptr;
  TF_Session* session = nullptr;
  Output input{};
  Output output{};
};

void closeSession(Session* s) {
  if (s->session) {
    TF_Status* status = api.NewStatus();
    api.CloseSession(s->session, status);
    api.DeleteSession(s->session, status);
    api.DeleteStatus(status);
    s->session = nullptr;
  }
  if (s->graph) {
    api.DeleteGraph(s->graph);
    s->graph = nullptr;
  }
}

void finalizeSession(napi_env, void* data, void*) {
  auto* s = static_cast<Session*>(data);
  closeSession(s);
  delete s;
}

napi_value throwError(napi_env env, const std::string& message) {
  napi_throw_error(env, kErrorCode, message.c_str());
  return nullptr;
}

bool stringArg(napi_env env, napi_value value, std::string& out) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
  out.resize(length);
  return napi_get_value_string_utf8(env, value, out.data(), length + 1, &length) == napi_ok;
}

// "node" or "node:index" -> the graph's output.
bool findOutput(TF_Graph* graph, const std::string& name, Output& out) {
  const size_t colon = name.find(':');
  const std::string op = name.substr(0, colon);
  out.index = colon == std::string::npos ? 0 : std::atoi(name.c_str() + colon + 1);
  out.oper = api.GraphOperationByName(graph, op.c_str());
  return out.oper != nullptr;
}

// openSession(exportDir, tag, inputName, outputName) -> a session handle. Names are graph nodes
// ("images" or "images:0").
napi_value OpenSession(napi_env env, napi_callback_info info) {
  if (const std::string error = bindSessionApi(); !error.empty()) return throwError(env, error);
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::string dir, tag, inputName, outputName;
  if (argc < 4 || !stringArg(env, argv[0], dir) || !stringArg(env, argv[1], tag) || !stringArg(env, argv[2], inputName) ||
      !stringArg(env, argv[3], outputName)) {
    return throwError(env, "openSession(exportDir, tag, inputName, outputName): four strings");
  }
  auto* s = new Session();
  TF_Status* status = api.NewStatus();
  TF_SessionOptions* options = api.NewSessionOptions();
  s->graph = api.NewGraph();
  const char* tags[] = {tag.c_str()};
  s->session = api.LoadSessionFromSavedModel(options, nullptr, dir.c_str(), tags, 1, s->graph, nullptr, status);
  api.DeleteSessionOptions(options);
  std::string error;
  if (api.GetCode(status) != kOk) {
    error = std::string("TensorFlow could not load the SavedModel in ") + dir + ": " + api.Message(status);
    s->session = nullptr;
  } else if (!findOutput(s->graph, inputName, s->input)) {
    error = "the graph has no node \"" + inputName + "\"";
  } else if (!findOutput(s->graph, outputName, s->output)) {
    error = "the graph has no node \"" + outputName + "\"";
  }
  api.DeleteStatus(status);
  if (!error.empty()) {
    closeSession(s);
    delete s;
    return throwError(env, error);
  }
  napi_value handle;
  napi_create_external(env, s, finalizeSession, nullptr, &handle);
  return handle;
}

Session* sessionArg(napi_env env, napi_value value) {
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok || !data) return nullptr;
  return static_cast<Session*>(data);
}

// TensorFlow calls this when the last reference to the input goes; the memory is JavaScript's.
void noteReleased(void*, size_t, void* released) { *static_cast<bool*>(released) = true; }

// runSession(handle, input Float32Array, dims number[]) -> the output as a new Float32Array.
napi_value RunSession(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Session* s = argc == 3 ? sessionArg(env, argv[0]) : nullptr;
  if (!s) return throwError(env, "runSession(session, input, dims): not a session");
  if (!s->session) return throwError(env, "the session is closed");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value arrayBuffer;
  size_t byteOffset = 0;
  bool isTypedArray = false;
  napi_is_typedarray(env, argv[1], &isTypedArray);
  if (!isTypedArray || napi_get_typedarray_info(env, argv[1], &type, &length, &data, &arrayBuffer, &byteOffset) != napi_ok ||
      type != napi_float32_array) {
    return throwError(env, "runSession: the input must be a Float32Array");
  }
  uint32_t rank = 0;
  bool isArray = false;
  napi_is_array(env, argv[2], &isArray);
  if (!isArray || napi_get_array_length(env, argv[2], &rank) != napi_ok || rank == 0 || rank > 8) {
    return throwError(env, "runSession: dims must be an array of 1 to 8 sizes");
  }
  std::vector<int64_t> dims(rank);
  int64_t count = 1;
  for (uint32_t i = 0; i < rank; i++) {
    napi_value element;
    napi_get_element(env, argv[2], i, &element);
    if (napi_get_value_int64(env, element, &dims[i]) != napi_ok || dims[i] < 0) return throwError(env, "runSession: dims must be sizes >= 0");
    count *= dims[i];
  }
  if (static_cast<size_t>(count) != length) {
    return throwError(env, "runSession: dims hold " + std::to_string(count) + " values, the input " + std::to_string(length));
  }

  // On the heap: if TensorFlow kept the input, its deallocator writes here later.
  auto* released = new bool(false);
  TF_Tensor* input = api.NewTensor(kFloat, dims.data(), static_cast<int>(rank), data, length * sizeof(float), noteReleased, released);
  TF_Tensor* output = nullptr;
  TF_Status* status = api.NewStatus();
  api.SessionRun(s->session, nullptr, &s->input, &input, 1, &s->output, &output, 1, nullptr, 0, nullptr, status);
  api.DeleteTensor(input);
  if (*released) {
    delete released;
  } else {
    // TensorFlow still holds the input: keep its memory (and the flag) alive for good rather than
    // let it be collected under TensorFlow (a direct session drops its inputs when Run returns).
    napi_ref keep;
    napi_create_reference(env, arrayBuffer, 1, &keep);
  }
  std::string error;
  if (api.GetCode(status) != kOk) {
    error = std::string("the session failed: ") + api.Message(status);
  } else if (!output || api.TensorType(output) != kFloat) {
    error = "the session's output is not a float32 tensor";
  }
  api.DeleteStatus(status);
  if (!error.empty()) {
    if (output) api.DeleteTensor(output);
    return throwError(env, error);
  }
  const size_t bytes = api.TensorByteSize(output);
  void* out = nullptr;
  napi_value outBuffer, result;
  napi_create_arraybuffer(env, bytes, &out, &outBuffer);
  std::memcpy(out, api.TensorData(output), bytes);
  api.DeleteTensor(output);
  napi_create_typedarray(env, napi_float32_array, bytes / sizeof(float), outBuffer, 0, &result);
  return result;
}

// closeSession(handle): frees the session now rather than when the handle is collected.
napi_value CloseSession(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Session* s = argc == 1 ? sessionArg(env, argv[0]) : nullptr;
  if (!s) return throwError(env, "closeSession(session): not a session");
  closeSession(s);
  return nullptr;
}

// The one argument of an allocating function, a length >= 0; -1 when it is not one.
int64_t lengthArg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t length = -1;
  if (argc != 1 || napi_get_value_int64(env, argv[0], &length) != napi_ok || length < 0) return -1;
  return length;
}

// alignedFloat32Array(length) -> a zeroed Float32Array whose data starts on a 64-byte boundary, so
// TensorFlow can take it as a tensor without copying.
napi_value AlignedFloat32Array(napi_env env, napi_callback_info info) {
  int64_t length = lengthArg(env, info);
  if (length < 0) return throwError(env, "alignedFloat32Array(length): a length >= 0");
  void* data = nullptr;
  napi_value buffer, result;
  if (napi_create_arraybuffer(env, static_cast<size_t>(length) * sizeof(float) + kAlignment, &data, &buffer) != napi_ok) return nullptr;
  const size_t offset = (kAlignment - reinterpret_cast<uintptr_t>(data) % kAlignment) % kAlignment;
  napi_create_typedarray(env, napi_float32_array, static_cast<size_t>(length), buffer, offset, &result);
  return result;
}

// The CUDA runtime's host-memory registration, when a GPU build of TensorFlow has loaded it.
struct CudaHostApi {
  int (*Register)(void*, size_t, unsigned int) = nullptr;
  int (*Unregister)(void*) = nullptr;
};

const CudaHostApi& cudaHostApi() {
  static const CudaHostApi api = [] {
    CudaHostApi found;
    void* lib = dlopen("libcudart.so.12", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) lib = dlopen("libcudart.so.13", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) return found;
    found.Register = reinterpret_cast<int (*)(void*, size_t, unsigned int)>(dlsym(lib, "cudaHostRegister"));
    found.Unregister = reinterpret_cast<int (*)(void*)>(dlsym(lib, "cudaHostUnregister"));
    if (!found.Register || !found.Unregister) found = CudaHostApi{};
    return found;
  }();
  return api;
}

void freePinned(napi_env, void* data, void*) {
  cudaHostApi().Unregister(data);
  std::free(data);
}

// pinnedFloat32Array(length) -> a zeroed Float32Array in page-locked memory registered with CUDA
// (a GPU takes it by DMA, without the driver's staging copy), or null where no CUDA runtime is
// loaded or the registration fails.
napi_value PinnedFloat32Array(napi_env env, napi_callback_info info) {
  int64_t length = lengthArg(env, info);
  if (length < 0) return throwError(env, "pinnedFloat32Array(length): a length >= 0");
  napi_value result;
  napi_get_null(env, &result);
  const CudaHostApi& cuda = cudaHostApi();
  if (!cuda.Register || length == 0) return result;
  const size_t page = 4096;
  const size_t bytes = (static_cast<size_t>(length) * sizeof(float) + page - 1) / page * page;
  void* data = std::aligned_alloc(page, bytes);
  if (!data) return result;
  std::memset(data, 0, bytes);
  constexpr unsigned int kPortable = 1;  // cudaHostRegisterPortable: every CUDA context sees it
  if (cuda.Register(data, bytes, kPortable) != 0) {
    std::free(data);
    return result;
  }
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, data, bytes, freePinned, nullptr, &buffer) != napi_ok) {
    freePinned(env, data, nullptr);
    return result;
  }
  napi_create_typedarray(env, napi_float32_array, static_cast<size_t>(length), buffer, 0, &result);
  return result;
}

// isAligned(typedArray) -> whether its data starts on a 64-byte boundary.
napi_value IsAligned(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  bool isTypedArray = false;
  if (argc == 1) napi_is_typedarray(env, argv[0], &isTypedArray);
  if (!isTypedArray) return throwError(env, "isAligned(typedArray): a typed array");
  napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr);
  napi_value result;
  napi_get_boolean(env, reinterpret_cast<uintptr_t>(data) % kAlignment == 0, &result);
  return result;
}

}  // namespace

void defineSessionFunctions(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"openSession", OpenSession},
      {"runSession", RunSession},
      {"closeSession", CloseSession},
      {"alignedFloat32Array", AlignedFloat32Array},
      {"pinnedFloat32Array", PinnedFloat32Array},
      {"isAligned", IsAligned},
  };
  for (const auto& f : functions) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
}

}  // namespace temi_kernels
