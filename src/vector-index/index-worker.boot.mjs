// Worker entry point. Node 20 does not apply `--import tsx` from a Worker's execArgv, so the
// TypeScript worker is loaded through tsx's programmatic loader: this works the same under
// `node --import tsx`, `tsx` and vitest.
import { tsImport } from 'tsx/esm/api';

await tsImport('./index-worker.ts', import.meta.url);
