import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';
import { layerImports } from './lint/layer-imports.js';

const root = import.meta.dirname;
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// The layers, bottom up (docs/ARCHITECTURE.md, "Layers"): each imports itself and what it lists.
const layers = [
  { name: 'runtime', paths: ['src/runtime'], mayImport: [] },
  {
    name: 'domain libraries',
    paths: ['src/clustering', 'src/embedding', 'src/vector-index', 'src/tf', 'src/datasets', 'src/numeric', 'src/report', 'src/native'],
    mayImport: ['runtime'],
  },
  {
    name: 'built-in plugins',
    paths: ['src/stages'],
    mayImport: ['domain libraries', 'runtime'],
    // The public contract, as third-party plugins import it (temi-stream/contracts, /operators).
    entryPoints: { runtime: ['src/runtime/contracts/index.ts', 'src/runtime/operators/index.ts'] },
  },
  { name: 'plugin machinery', paths: ['src/plugins'], mayImport: ['built-in plugins', 'domain libraries', 'runtime'] },
  { name: 'cli and bench', paths: ['src/cli', 'src/api.ts', 'bench'], mayImport: ['plugin machinery', 'built-in plugins', 'domain libraries', 'runtime'] },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.kafka/**', '.tensorflow/**', '.cache/**', 'state/**', 'out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    // Specs test across layers on purpose.
    ignores: ['**/*.spec.ts'],
    plugins: { layers: { rules: { imports: layerImports } } },
    rules: { 'layers/imports': ['error', { root, layers, packageName: pkg.name, packageExports: pkg.exports }] },
  },
);
