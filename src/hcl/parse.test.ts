import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHcl, toPlain } from './index.js';

describe('parseHcl', () => {
  it('parses blocks with labels, lists, comments and repeated keys', () => {
    const root = parseHcl(`
# a comment
path "secret/*" {
  capabilities = ["read", "list",]   // trailing comma
}
/* block
   comment */
path "sys/*" { capabilities = ["deny"] }
`);
    assert.equal(root.items.length, 2);
    assert.deepEqual(toPlain(root.items[0]!.value), { 'secret/*': { capabilities: ['read', 'list'] } });
    assert.equal(root.items[1]!.line, 8);
  });

  it('parses JSON with the same tree', () => {
    const root = parseHcl('{"path": {"a/*": {"capabilities": ["read"]}}, "n": 3, "b": true}');
    assert.deepEqual(toPlain(root), { path: { 'a/*': { capabilities: ['read'] } }, n: 3, b: true });
  });

  it('parses heredocs, numbers, bools and nested objects', () => {
    const root = parseHcl('a = <<EOT\nline1\nline2\nEOT\nb = 1.5\nc = false\nd = { e = "f", g = [1, 2] }\n');
    assert.deepEqual(toPlain(root), { a: 'line1\nline2\n', b: 1.5, c: false, d: { e: 'f', g: [1, 2] } });
  });

  it('reports the line of a syntax error', () => {
    assert.throws(() => parseHcl('a = "x"\nb = \n}'), /line 3/);
    assert.throws(() => parseHcl('a = "unterminated\n'), /line 1: unterminated string/);
    assert.throws(() => parseHcl('a = bare'), /must be quoted/);
  });

  it('refuses pathological nesting instead of overflowing the stack', () => {
    assert.throws(() => parseHcl(`a = ${'['.repeat(10000)}`), /nesting too deep/);
  });
});
