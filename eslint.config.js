// Lint rules that carry the architecture: the import direction between layers and their index
// surfaces (DESIGN.md, STYLE.md §1, docs/architecture.md), no `any`, and no dropped promises (a
// lost revoke or audit write is a bug).
import path from 'node:path';
import tseslint from 'typescript-eslint';
import { cofferPlugin } from './eslint-rules/layers.js';

/**
 * What each unit of src/ may import besides itself: a folder, or a root file (compose, main).
 * Every folder under src/ is listed; an import into a folder that is not is itself an error.
 * Imports into another unit go through its surface: `<folder>/index.js` unless named below.
 */
export const LAYERS = {
  src: path.join(import.meta.dirname, 'src'),
  allow: {
    util: [],
    hcl: [],
    logical: ['util'],
    storage: ['util', 'logical'],
    barrier: ['util', 'logical', 'storage'],
    seal: ['util', 'logical', 'storage', 'barrier'],
    framework: ['util', 'logical'],
    core: ['util', 'logical', 'hcl', 'storage', 'barrier', 'seal', 'framework'],
    engines: ['util', 'logical', 'framework'],
    auth: ['util', 'logical', 'framework'],
    audit: ['util', 'logical'],
    http: ['util', 'logical', 'core'],
    config: ['util', 'logical', 'hcl', 'http'],
    compose: ['core', 'engines', 'auth', 'audit', 'framework', 'logical'],
    main: ['util', 'logical', 'storage', 'core', 'http', 'config', 'compose'],
    // The CLI is a client of the HTTP API (two commands excepted below).
    cli: ['util'],
    e2e: [],
    bench: ['e2e'],
  },
  surfaces: { compose: 'compose.js', main: 'main.js', e2e: 'e2e/server-process.js' },
  exceptions: {
    // `server` starts main.ts; `policy fmt` checks and formats a policy locally, as Vault's does.
    'cli/commands/server.ts': ['config', 'main'],
    'cli/commands/policy.ts': ['core', 'hcl'],
    // Test helpers build what they test with the production composition.
    'core/testing.ts': ['compose'],
    'http/testing.ts': ['compose', 'storage'],
    // The Kubernetes API and OpenID provider stand-ins serve HTTPS with the TLS tests' certificate fixture.
    'auth/kubernetes/testing.ts': ['http/tls-fixture.js'],
    'auth/jwt/testing.ts': ['http/tls-fixture.js'],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'eslint.config.js', 'eslint-rules/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { coffer: cofferPlugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
      'coffer/layers': ['error', LAYERS],
    },
  },
  // node:test's describe/it promises are the runner's to await; tests reach into what they test.
  { files: ['src/**/*.test.ts', 'src/storage/contract.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off', 'coffer/layers': 'off' } },
);
