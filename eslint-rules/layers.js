// The layer rule: which folder of src/ may import which, and only through its index. Every
// import is checked (static, re-exports, dynamic import() and import types); a dynamic import
// whose target is not a string literal cannot be checked, so it is refused.
import path from 'node:path';

/** @typedef {{ src: string, allow: Record<string, string[]>, exceptions?: Record<string, string[]>, surfaces?: Record<string, string> }} LayerOptions */

/** The unit of a file: its top folder under src/ ("core"), or a root file's name ("main"). */
function unitOf(src, file) {
  const rel = path.relative(src, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  return parts.length === 1 ? parts[0].replace(/\.(ts|js)$/, '') : parts[0];
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the import direction between the layers of src/ and their index surfaces.' },
    schema: [{ type: 'object', additionalProperties: true }],
    messages: {
      forbidden: '{{from}} may not import from {{to}} (layers: docs/architecture.md).',
      deep: 'Import {{to}} through its surface ({{surface}}), not {{target}}.',
      dynamic: 'A dynamic import must name its module with a string literal, so the layer rule can check it.',
      unknown: '{{target}} is not in a layer the rule knows: add the folder to the layer table in eslint.config.js.',
    },
  },
  create(context) {
    /** @type {LayerOptions} */
    const opts = context.options[0];
    const file = context.filename;
    const from = unitOf(opts.src, file);
    if (from === null) return {};
    const relFile = path.relative(opts.src, file).split(path.sep).join('/');
    const allowed = new Set([...(opts.allow[from] ?? []), ...(opts.exceptions?.[relFile] ?? [])]);

    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return; // packages and node: builtins
      const target = path.resolve(path.dirname(file), spec);
      const to = unitOf(opts.src, target);
      const shown = path.relative(opts.src, target).split(path.sep).join('/');
      if (to === null || !(to in opts.allow)) {
        context.report({ node, messageId: 'unknown', data: { target: shown } });
        return;
      }
      if (to === from) return; // inside one layer, any file may import any other
      // An exception may name one file of another unit ("http/tls-fixture.js"): that file only.
      if (opts.exceptions?.[relFile]?.includes(shown)) return;
      if (!allowed.has(to)) {
        context.report({ node, messageId: 'forbidden', data: { from: relFile, to } });
        return;
      }
      const surface = opts.surfaces?.[to] ?? `${to}/index.js`;
      if (shown !== surface) context.report({ node, messageId: 'deep', data: { to, surface, target: shown } });
    };

    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check(node, node.source.value);
        else if (node.source.type === 'TemplateLiteral' && node.source.expressions.length === 0) check(node, node.source.quasis[0].value.cooked);
        else context.report({ node, messageId: 'dynamic' });
      },
      TSImportType: (node) => {
        const arg = node.argument;
        const lit = arg?.type === 'TSLiteralType' ? arg.literal : arg;
        if (lit?.type === 'Literal') check(node, lit.value);
      },
    };
  },
};

export const cofferPlugin = { rules: { layers: layersRule } };
