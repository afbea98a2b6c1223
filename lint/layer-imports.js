// ESLint rule `layers/imports`: every import, export-from and literal dynamic import of a file in
// a layer must land in the same layer or one it may import (docs/ARCHITECTURE.md, "Layers").
// Paths are resolved, not pattern-matched, so '../../clustering/x.ts' is judged by where it
// lands whatever the importing file's depth. The layer table is the rule's option (see
// eslint.config.js); files in no layer (tests, specs, scripts, examples) are not checked.
import { dirname, relative, resolve, sep } from 'node:path';

/** @type {import('eslint').Rule.RuleModule} */
export const layerImports = {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer imports only itself and the layers below it (docs/ARCHITECTURE.md, "Layers")' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          packageName: { type: 'string' },
          packageExports: { type: 'object' },
          layers: { type: 'array' },
        },
        required: ['root', 'layers'],
      },
    ],
    messages: {
      upward: '{{from}} ({{fromLayer}}) may not import {{to}} ({{toLayer}}): {{fromLayer}} imports only {{allowed}}. See docs/ARCHITECTURE.md, "Layers".',
      entryPoint: '{{from}} ({{fromLayer}}) imports {{toLayer}} only through {{entries}}, not {{to}}: built-in plugins use exactly what third-party plugins get. See docs/ARCHITECTURE.md, "Layers".',
    },
  },
  create(context) {
    const { root, layers, packageName, packageExports = {} } = context.options[0];
    const posix = (path) => path.split(sep).join('/');
    const layerOf = (path) => layers.find((layer) => layer.paths.some((p) => path === p || path.startsWith(`${p}/`)));
    const from = posix(relative(root, context.filename));
    const fromLayer = layerOf(from);
    if (!fromLayer) return {};

    /** The repository path an import lands on, or undefined for a package outside the repository. */
    const target = (specifier) => {
      if (specifier.startsWith('.')) return posix(relative(root, resolve(dirname(context.filename), specifier)));
      if (packageName && (specifier === packageName || specifier.startsWith(`${packageName}/`))) {
        const exported = packageExports[`.${specifier.slice(packageName.length)}`];
        return typeof exported === 'string' ? posix(relative(root, resolve(root, exported))) : undefined;
      }
      return undefined;
    };

    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return;
      const to = target(source.value);
      if (to === undefined) return;
      const toLayer = layerOf(to);
      if (!toLayer || toLayer === fromLayer) return;
      if (!fromLayer.mayImport.includes(toLayer.name)) {
        const allowed = [fromLayer.name, ...fromLayer.mayImport].join(', ');
        context.report({ node, messageId: 'upward', data: { from, fromLayer: fromLayer.name, to, toLayer: toLayer.name, allowed } });
        return;
      }
      const entries = fromLayer.entryPoints?.[toLayer.name];
      if (entries && !entries.includes(to)) {
        context.report({ node, messageId: 'entryPoint', data: { from, fromLayer: fromLayer.name, to, toLayer: toLayer.name, entries: entries.join(' and ') } });
      }
    };

    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
      // type X = import('../../clustering/x.ts').Y
      TSImportType: (node) => check(node, node.source ?? (node.argument?.type === 'TSLiteralType' ? node.argument.literal : undefined)),
    };
  },
};
