import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../../logical/index.js';
import { allowOperation, capabilitiesOn, compileAcl, hasAccessUnder } from './acl.js';
import { parsePolicy } from './policy.js';

/** Every policy example from Vault's policy documentation, plus coffer's own. */
const DOCS_DETAILED = `
# This section grants all access on "secret/*". further restrictions can be
# applied to this broad policy, as shown below.
path "secret/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "recover"]
}

# Even though we allowed secret/*, this line explicitly denies
# secret/super-secret. this takes precedence.
path "secret/super-secret" {
  capabilities = ["deny"]
}

path "secret/restricted" {
  capabilities = ["create"]
  allowed_parameters = {
    "foo" = []
    "bar" = ["zip", "zap"]
  }
}`;

const DOCS_GLOBS = `
path "secret/foo" { capabilities = ["read"] }
path "secret/bar/*" { capabilities = ["read"] }
path "secret/zip-*" { capabilities = ["read"] }
path "secret/+/teamb" { capabilities = ["read"] }
path "secret/+/+/teamb" { capabilities = ["read"] }`;

const DOCS_PARAMS = `
path "secret/profile" {
  capabilities = ["create"]
  required_parameters = ["name", "id"]
}
path "auth/userpass/users/*" {
  capabilities = ["update"]
  allowed_parameters = { "password" = [] }
}
path "transit/keys/*" {
  capabilities = ["create", "update"]
  allowed_parameters = { "auto_rotate_period" = ["8h", "24h", "5d"] }
}
path "secret/foo" {
  capabilities = ["create"]
  allowed_parameters = {
    "bar" = ["zip", "zap"]
    "*"   = []
  }
}
path "auth/token/roles/*" {
  capabilities = ["create", "update"]
  denied_parameters = { "allowed_policies" = ["admin"] }
}
path "secret/globbed" {
  capabilities = ["create"]
  allowed_parameters = { "bar" = ["foo-*"] }
}
path "secret/nostore" {
  capabilities = ["create"]
  required_parameters = ["no_store"]
  denied_parameters = { "no_store" = [false, "false"] }
}`;

const DOCS_DENIED_USERS = `
path "auth/userpass/users/*" {
  capabilities = ["update"]
  denied_parameters = {
    "token_policies" = []
    "policies" = []
  }
}
path "transit/keys/*" {
  capabilities = ["create", "update"]
  denied_parameters = { "*" = [] }
}`;

/** Priority: "secret/*" versus "secret/+/+/foo/*" — rule 3 makes the latter lower priority. */
const DOCS_PRIORITY = `
path "secret/*" { capabilities = ["read"] }
path "secret/+/+/foo/*" { capabilities = ["deny"] }`;

const PRIORITY_RULES = `
path "a/*" { capabilities = ["read"] }
path "a/b/*" { capabilities = ["update"] }
path "a/+/c" { capabilities = ["list"] }
path "a/b/c" { capabilities = ["create"] }
path "x/+/*" { capabilities = ["read"] }
path "x/+/y" { capabilities = ["update"] }
path "m/+/+" { capabilities = ["read"] }
path "m/+/n" { capabilities = ["update"] }
path "q/foo*" { capabilities = ["read"] }
path "q/fo*" { capabilities = ["update"] }`;

const LEGACY = `
path "old/read/*" { policy = "read" }
path "old/write/*" { policy = "write" }
path "old/sudo/*" { policy = "sudo" }
path "old/deny/*" { policy = "deny" }`;

const JSON_POLICY = JSON.stringify({ path: { 'json/*': { capabilities: ['read', 'list'] }, 'json/secret': { capabilities: ['deny'] } } });

const LIST_RULES = `
path "kv/metadata" { capabilities = ["list"] }
path "kv/metadata/team/*" { capabilities = ["list"] }
path "sys/auth/*" { capabilities = ["create", "update", "sudo"] }
path "sys/mounts" { capabilities = ["read"] }`;

const LIST_DENY = `
path "kv/metadata/*" { capabilities = ["list"] }
path "kv/metadata/private/*" { capabilities = ["deny"] }`;

type Row = readonly [policy: string | string[], path: string, op: Operation, data: Record<string, unknown> | null, allowed: boolean];

const ROWS: Row[] = [
  // The detailed documentation example.
  [DOCS_DETAILED, 'secret/anything', 'read', null, true],
  [DOCS_DETAILED, 'secret/deep/nested/key', 'delete', null, true],
  [DOCS_DETAILED, 'secret/anything', 'patch', null, true],
  [DOCS_DETAILED, 'secret/super-secret', 'read', null, false],
  [DOCS_DETAILED, 'secret/super-secret', 'update', null, false],
  [DOCS_DETAILED, 'secret/restricted', 'create', { foo: 'anything', bar: 'zip' }, true],
  [DOCS_DETAILED, 'secret/restricted', 'create', { bar: 'zap' }, true],
  [DOCS_DETAILED, 'secret/restricted', 'create', { bar: 'nope' }, false],
  [DOCS_DETAILED, 'secret/restricted', 'create', { other: 'x' }, false],
  [DOCS_DETAILED, 'secret/restricted', 'update', { foo: 'x' }, false],
  [DOCS_DETAILED, 'secret/restricted', 'read', null, false],
  [DOCS_DETAILED, 'other/x', 'read', null, false],
  // Exact paths, globs and "+" segments.
  [DOCS_GLOBS, 'secret/foo', 'read', null, true],
  [DOCS_GLOBS, 'secret/food', 'read', null, false],
  [DOCS_GLOBS, 'secret/foo/bar', 'read', null, false],
  [DOCS_GLOBS, 'secret/bar/zip', 'read', null, true],
  [DOCS_GLOBS, 'secret/bar/zip/zap', 'read', null, true],
  [DOCS_GLOBS, 'secret/bars/zip', 'read', null, false],
  [DOCS_GLOBS, 'secret/zip-zap', 'read', null, true],
  [DOCS_GLOBS, 'secret/zip-zap/zong', 'read', null, true],
  [DOCS_GLOBS, 'secret/zip/zap', 'read', null, false],
  [DOCS_GLOBS, 'secret/anyteam/teamb', 'read', null, true],
  [DOCS_GLOBS, 'secret/foo/bar/teamb', 'read', null, true],
  [DOCS_GLOBS, 'secret/bar/foo/teamb', 'read', null, true],
  [DOCS_GLOBS, 'secret/a/b/c/teamb', 'read', null, false],
  [DOCS_GLOBS, 'secret/x/teamb/more', 'read', null, false],
  [DOCS_GLOBS, 'secret/foo', 'update', null, false],
  // Parameter constraints from the documentation.
  [DOCS_PARAMS, 'secret/profile', 'create', { name: 'n', id: 1 }, true],
  [DOCS_PARAMS, 'secret/profile', 'create', { name: 'n' }, false],
  [DOCS_PARAMS, 'auth/userpass/users/bob', 'update', { password: 'pw' }, true],
  [DOCS_PARAMS, 'auth/userpass/users/bob', 'update', { password: 'pw', token_ttl: '1h' }, false],
  [DOCS_PARAMS, 'transit/keys/k1', 'create', { auto_rotate_period: '24h' }, true],
  [DOCS_PARAMS, 'transit/keys/k1', 'update', { auto_rotate_period: '1h' }, false],
  [DOCS_PARAMS, 'secret/foo', 'create', { bar: 'zip', anything: 'else' }, true],
  [DOCS_PARAMS, 'secret/foo', 'create', { bar: 'zop' }, false],
  [DOCS_PARAMS, 'auth/token/roles/r', 'create', { allowed_policies: 'dev' }, true],
  [DOCS_PARAMS, 'auth/token/roles/r', 'update', { allowed_policies: 'admin' }, false],
  [DOCS_PARAMS, 'auth/token/roles/r', 'update', { allowed_policies: ['dev', 'admin'] }, false],
  [DOCS_PARAMS, 'secret/globbed', 'create', { bar: 'foo-123' }, true],
  [DOCS_PARAMS, 'secret/globbed', 'create', { bar: 'bar-123' }, false],
  [DOCS_PARAMS, 'secret/nostore', 'create', { no_store: false, value: 'v' }, false],
  [DOCS_PARAMS, 'secret/nostore', 'create', { no_store: 'false' }, false],
  [DOCS_PARAMS, 'secret/nostore', 'create', { value: 'v' }, false],
  [DOCS_PARAMS, 'secret/nostore', 'create', { no_store: true, value: 'v' }, true],
  [DOCS_DENIED_USERS, 'auth/userpass/users/bob', 'update', { password: 'pw' }, true],
  [DOCS_DENIED_USERS, 'auth/userpass/users/bob', 'update', { policies: 'admin' }, false],
  [DOCS_DENIED_USERS, 'auth/userpass/users/bob', 'update', { token_policies: [] }, false],
  [DOCS_DENIED_USERS, 'transit/keys/k', 'create', {}, true],
  [DOCS_DENIED_USERS, 'transit/keys/k', 'create', { exportable: true }, false],
  // Priority between overlapping patterns.
  [DOCS_PRIORITY, 'secret/a/b/foo/c', 'read', null, true],
  [PRIORITY_RULES, 'a/b/c', 'create', null, true],
  [PRIORITY_RULES, 'a/b/c', 'update', null, false],
  [PRIORITY_RULES, 'a/b/d', 'update', null, true],
  [PRIORITY_RULES, 'a/b/d', 'read', null, false],
  [PRIORITY_RULES, 'a/z/c', 'list', null, true],
  [PRIORITY_RULES, 'a/z/c', 'read', null, false],
  [PRIORITY_RULES, 'a/z/d', 'read', null, true],
  [PRIORITY_RULES, 'x/k/y', 'update', null, true],
  [PRIORITY_RULES, 'x/k/y', 'read', null, false],
  [PRIORITY_RULES, 'x/k/z', 'read', null, true],
  [PRIORITY_RULES, 'm/k/n', 'update', null, true],
  [PRIORITY_RULES, 'm/k/o', 'read', null, true],
  [PRIORITY_RULES, 'q/foobar', 'read', null, true],
  [PRIORITY_RULES, 'q/fob', 'update', null, true],
  [PRIORITY_RULES, 'q/foobar', 'update', null, false],
  // The same pattern in two policies merges; different patterns do not.
  [['path "s/*" { capabilities = ["read"] }', 'path "s/*" { capabilities = ["update"] }'], 's/k', 'update', null, true],
  [['path "s/*" { capabilities = ["read"] }', 'path "s/*" { capabilities = ["deny"] }'], 's/k', 'read', null, false],
  [['path "s/*" { capabilities = ["read"] }', 'path "s/k" { capabilities = ["update"] }'], 's/k', 'read', null, false],
  [['path "s/k" { capabilities = ["read"]\n allowed_parameters = { "a" = ["1"] } }', 'path "s/k" { capabilities = ["read"]\n allowed_parameters = { "a" = [] } }'], 's/k', 'read', { a: '9' }, true],
  // The legacy grammar.
  [LEGACY, 'old/read/x', 'read', null, true],
  [LEGACY, 'old/read/x', 'list', null, true],
  [LEGACY, 'old/read/x', 'update', null, false],
  [LEGACY, 'old/write/x', 'create', null, true],
  [LEGACY, 'old/write/x', 'delete', null, true],
  [LEGACY, 'old/deny/x', 'read', null, false],
  // JSON policies.
  [JSON_POLICY, 'json/a', 'read', null, true],
  [JSON_POLICY, 'json/secret', 'read', null, false],
  // Lists match a rule written with or without the trailing slash.
  [LIST_RULES, 'kv/metadata/', 'list', null, true],
  [LIST_RULES, 'kv/metadata/team/', 'list', null, true],
  [LIST_RULES, 'kv/metadata/other/', 'list', null, false],
  [LIST_RULES, 'sys/mounts', 'read', null, true],
  // A list is authorised on the folder with its slash: a wildcard must match the folder itself.
  [LIST_DENY, 'kv/metadata/private/', 'list', null, false],
  [LIST_DENY, 'kv/metadata/private/deeper/', 'list', null, false],
  [LIST_DENY, 'kv/metadata/public/', 'list', null, true],
  [LIST_DENY, 'kv/metadata/', 'list', null, true],
  // The root policy allows everything.
  ['', 'anything/at/all', 'delete', null, true],
];

describe('allowOperation', () => {
  for (const [i, [policy, path, op, data, allowed]] of ROWS.entries()) {
    it(`row ${i}: ${op} ${path}${data ? ` ${JSON.stringify(data)}` : ''} is ${allowed ? 'allowed' : 'denied'}`, () => {
      const policies = policy === '' ? [{ name: 'root', raw: '', rules: [], templated: false }] : (Array.isArray(policy) ? policy : [policy]).map((p, n) => parsePolicy(`p${n}`, p));
      assert.equal(allowOperation(compileAcl(policies), { path, operation: op, data: data ?? {} }).allowed, allowed);
    });
  }

  it('reports sudo only where a matching rule grants it', () => {
    const acl = compileAcl([parsePolicy('p', LIST_RULES)]);
    assert.equal(allowOperation(acl, { path: 'sys/auth/userpass', operation: 'update', data: {} }).sudo, true);
    assert.equal(allowOperation(acl, { path: 'sys/mounts', operation: 'read', data: {} }).sudo, false);
  });
});

describe('capabilitiesOn', () => {
  it('lists sorted capabilities, "deny" for nothing, "root" for root', () => {
    const acl = compileAcl([parsePolicy('p', DOCS_DETAILED)]);
    assert.deepEqual(capabilitiesOn(acl, 'secret/x'), ['create', 'delete', 'list', 'patch', 'read', 'recover', 'update']);
    assert.deepEqual(capabilitiesOn(acl, 'secret/super-secret'), ['deny']);
    assert.deepEqual(capabilitiesOn(acl, 'nope'), ['deny']);
    assert.deepEqual(capabilitiesOn(compileAcl([{ name: 'root', raw: '', rules: [], templated: false }]), 'nope'), ['root']);
  });
});

describe('hasAccessUnder', () => {
  it('finds rules inside a mount, globs covering it, and "+" patterns', () => {
    const acl = compileAcl([parsePolicy('p', DOCS_GLOBS)]);
    assert.equal(hasAccessUnder(acl, 'secret/'), true);
    assert.equal(hasAccessUnder(acl, 'other/'), false);
    assert.equal(hasAccessUnder(compileAcl([parsePolicy('p', 'path "+/data/x" { capabilities = ["read"] }')]), 'kv/'), true);
    assert.equal(hasAccessUnder(compileAcl([parsePolicy('p', 'path "*" { capabilities = ["read"] }')]), 'kv/'), true);
  });
});

describe('parsePolicy', () => {
  it('rejects unknown keys, capabilities and legacy values with the line', () => {
    assert.throws(() => parsePolicy('p', 'path "a" {\n  capabilities = ["reed"]\n}'), /line 2: path "a": invalid capability "reed"/);
    assert.throws(() => parsePolicy('p', 'path "a" {\n  capabilitys = ["read"]\n}'), /line 2: path "a": invalid key "capabilitys"/);
    assert.throws(() => parsePolicy('p', 'path "a" { policy = "admin" }'), /invalid policy "admin"/);
    assert.throws(() => parsePolicy('p', 'paths "a" { policy = "read" }'), /invalid key "paths"/);
    assert.throws(() => parsePolicy('p', 'path "a/+*" { capabilities = ["read"] }'), /forbidden/);
    assert.throws(() => parsePolicy('p', 'path "a" { capabilities = ["read"]'), /failed to parse policy/);
  });

  it('keeps deny alone when mixed with other capabilities, and strips a leading slash', () => {
    const p = parsePolicy('p', 'path "/a/*" { capabilities = ["read", "deny"] }');
    assert.deepEqual([...p.rules[0]!.capabilities], ['deny']);
    assert.equal(p.rules[0]!.path, 'a/');
    assert.equal(p.rules[0]!.isPrefix, true);
  });
});
