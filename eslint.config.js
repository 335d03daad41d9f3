// Lint rules that carry the architecture: the import direction between layers (DESIGN.md,
// STYLE.md §1), no `any`, and no dropped promises (a lost revoke or audit write is a bug).
import tseslint from 'typescript-eslint';

/** Forbid importing from the given src/ folders (relative imports climbing out of this one). */
const forbid = (...folders) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: folders.map((f) => ({
        group: ['../', '../../', '../../../'].flatMap((up) => [`${up}${f}/*`, `${up}${f}.js`]),
        message: `This layer may not import from src/${f} (see docs/architecture.md).`,
      })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  // node:test's describe/it promises are the runner's to await.
  { files: ['src/**/*.test.ts', 'src/storage/contract.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off' } },
  // Inner layers know nothing of the outer ones.
  { files: ['src/logical/**/*.ts'], rules: forbid('framework', 'storage', 'barrier', 'seal', 'core', 'engines', 'http', 'cli', 'config', 'main') },
  { files: ['src/storage/**/*.ts'], rules: forbid('barrier', 'seal', 'core', 'engines', 'framework', 'http', 'cli', 'config', 'main') },
  { files: ['src/barrier/**/*.ts'], rules: forbid('seal', 'core', 'engines', 'framework', 'http', 'cli', 'config', 'main') },
  { files: ['src/seal/**/*.ts'], rules: forbid('core', 'engines', 'framework', 'http', 'cli', 'config', 'main') },
  { files: ['src/framework/**/*.ts'], rules: forbid('storage', 'barrier', 'seal', 'core', 'engines', 'http', 'cli', 'config', 'main') },
  // Engines see only the framework and the logical contracts.
  { files: ['src/engines/**/*.ts'], ignores: ['src/engines/registry.ts', 'src/engines/**/*.test.ts'], rules: forbid('storage', 'barrier', 'seal', 'core', 'http', 'cli', 'config', 'main') },
  { files: ['src/core/**/*.ts'], ignores: ['src/core/testing.ts', 'src/core/**/*.test.ts'], rules: forbid('engines', 'http', 'cli', 'config', 'main') },
  { files: ['src/http/**/*.ts'], ignores: ['src/http/testing.ts', 'src/http/**/*.test.ts'], rules: forbid('storage', 'barrier', 'seal', 'engines', 'cli', 'config', 'main') },
  // The CLI is a client of the HTTP API. `server` starts main.ts; `policy fmt` parses locally.
  { files: ['src/cli/**/*.ts'], ignores: ['src/cli/commands/server.ts', 'src/cli/commands/policy.ts'], rules: forbid('storage', 'barrier', 'seal', 'core', 'engines', 'framework', 'http', 'main') },
);
