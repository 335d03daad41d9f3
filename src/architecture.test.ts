import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The layer rule in eslint.config.js, proved on fixtures: each text below is linted as if it
 * were the named file of src/, with the project's real configuration.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));

const FIXTURES: { file: string; code: string; expect: RegExp | null }[] = [
  { file: 'src/storage/storage.ts', code: "import { Core } from '../core/index.js';\nexport const x = Core;\n", expect: /storage\/storage\.ts may not import from core/ },
  { file: 'src/engines/kv/backend.ts', code: "import type { Core } from '../../core/index.js';\nexport type X = Core;\n", expect: /may not import from core/ },
  { file: 'src/util/lru.ts', code: "import { badRequest } from '../logical/index.js';\nexport const x = badRequest;\n", expect: /util\/lru\.ts may not import from logical/ },
  { file: 'src/cli/main.ts', code: "export type X = import('../core/index.js').Core;\n", expect: /may not import from core/ },
  { file: 'src/config/load.ts', code: "export * from '../core/index.js';\n", expect: /may not import from core/ },
  { file: 'src/core/core.ts', code: "export const load = () => import('../http/index.js');\n", expect: /may not import from http/ },
  { file: 'src/core/core.ts', code: "export const load = (name: string) => import(name);\n", expect: /dynamic import must name its module with a string literal/ },
  { file: 'src/http/handler.ts', code: "import { TokenStore } from '../core/tokens/token-store.js';\nexport const x = TokenStore;\n", expect: /Import core through its surface \(core\/index\.js\)/ },
  { file: 'src/http/handler.ts', code: "export { x } from '../nosuch/x.js';\n", expect: /nosuch\/x\.js is not in a layer the rule knows/ },
  { file: 'src/http/handler.ts', code: "import type { Core } from '../core/index.js';\nexport type X = Core;\n", expect: null },
  { file: 'src/engines/kv/backend.ts', code: "import { definePath } from '../../framework/index.js';\nexport const x = definePath;\n", expect: null },
];

describe('the layer rule (eslint.config.js)', () => {
  it('fails the lint for each forbidden import, and passes the allowed ones', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const f of FIXTURES) {
      const [result] = await eslint.lintText(f.code, { filePath: `${ROOT}${f.file}` });
      const layer = result!.messages.filter((m) => m.ruleId === 'coffer/layers').map((m) => m.message);
      if (f.expect) {
        assert.equal(layer.length, 1, `${f.file}: ${f.code.trim()} → ${JSON.stringify(result!.messages.map((m) => m.message))}`);
        assert.match(layer[0]!, f.expect);
        assert.equal(result!.messages.find((m) => m.ruleId === 'coffer/layers')!.severity, 2, 'an error, so `npm test` fails');
      } else {
        assert.deepEqual(layer, [], `${f.file}: ${f.code.trim()}`);
      }
    }
  });
});
