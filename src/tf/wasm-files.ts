import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Directory (with a trailing separator) holding the .wasm binaries of @tensorflow/tfjs-backend-wasm.
 * Under Node the Emscripten loader reads a file-system prefix with fs, so pointing it at the
 * package's own dist/ works offline and wherever node_modules lives (hoisted or nested).
 */
export function wasmFilesDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(packageJson), 'dist') + path.sep;
}
