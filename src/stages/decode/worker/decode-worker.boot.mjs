// Worker entry point; see src/vector-index/index-worker.boot.mjs for why TypeScript is loaded this way.
import { tsImport } from 'tsx/esm/api';

await tsImport('./decode-worker.ts', import.meta.url);
