/**
 * The one TensorFlow.js instance of the process. Every module imports `tf` from here so that a
 * backend registered by @tensorflow/tfjs-node or the wasm package (both register into the same
 * engine of @tensorflow/tfjs-core) is the one every model and trainer uses.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
