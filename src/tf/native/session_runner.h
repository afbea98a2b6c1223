// A SavedModel run through TensorFlow's C session API with the caller's input buffer handed to
// TensorFlow as it is (no copy) and the output copied out once; see session_runner.cc.
#pragma once

#include <node_api.h>

namespace temi_kernels {

// Adds openSession, runSession, closeSession and alignedFloat32Array to the addon's exports.
void defineSessionFunctions(napi_env env, napi_value exports);

}  // namespace temi_kernels
