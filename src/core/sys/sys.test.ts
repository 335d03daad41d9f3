import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTestCore } from '../testing.js';

type Data = Record<string, unknown>;
const data = (r: { data?: Data | null } | null): Data => (r?.data ?? {}) as Data;

describe('sys/mounts', () => {
  it('enables, lists, reads, tunes, moves and disables a mount', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/mounts/team-kv', { type: 'kv-v2', description: 'team secrets', config: { default_lease_ttl: '1h', max_lease_ttl: '2h' } });
    const listed = data(await t.request('read', 'sys/mounts'));
    assert.deepEqual(Object.keys(listed).sort(), ['cubbyhole/', 'identity/', 'secret/', 'sys/', 'team-kv/']);
    const m = listed['team-kv/'] as Data;
    assert.equal(m['type'], 'kv');
    assert.deepEqual(m['options'], { version: '2' });
    assert.match(String(m['accessor']), /^kv_[0-9a-f]{8}$/);
    assert.deepEqual(data(await t.request('read', 'sys/mounts/team-kv/tune')), { default_lease_ttl: 3600, max_lease_ttl: 7200, force_no_cache: false, description: 'team secrets', options: { version: '2' } });
    await t.request('update', 'sys/mounts/team-kv/tune', { default_lease_ttl: '30m', description: 'renamed' });
    assert.equal(data(await t.request('read', 'sys/mounts/team-kv/tune'))['default_lease_ttl'], 1800);
    await t.request('update', 'team-kv/data/k', { data: { v: 1 } });
    await t.request('update', 'sys/remount', { from: 'team-kv', to: 'moved-kv' });
    assert.deepEqual(data(await t.request('read', 'moved-kv/data/k'))['data'], { v: 1 });
    await assert.rejects(t.request('read', 'team-kv/data/k'), { code: 'unsupported_path' });
    await t.request('delete', 'sys/mounts/moved-kv');
    await t.request('update', 'sys/mounts/moved-kv', { type: 'kv-v2' });
    assert.equal(await t.request('read', 'moved-kv/data/k'), null, 'disabling a mount deletes its data');
  });

  it('reads mount options loosely, as Vault does: {"version": 2} is stored as "2"', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/mounts/loose', { type: 'kv', options: { version: 2 } });
    assert.deepEqual((data(await t.request('read', 'sys/mounts')) as Record<string, Data>)['loose/']!['options'], { version: '2' });
    await t.request('update', 'loose/data/k', { data: { v: 1 } });
    await t.request('update', 'sys/mounts/old', { type: 'kv', options: ['version=1'] });
    await t.request('update', 'sys/mounts/old/tune', { options: { version: 2 } });
    assert.deepEqual(data(await t.request('read', 'sys/mounts/old/tune'))['options'], { version: '2' });
    await assert.rejects(t.request('update', 'sys/mounts/bad', { type: 'kv', options: { version: [2] } }), { message: 'field "options" must be a map of strings' });
  });

  it('refuses overlapping, reserved and unknown mounts with 400', async () => {
    const t = await newTestCore();
    for (const [path, type] of [['secret', 'kv'], ['secret/sub', 'kv'], ['sys/x', 'kv'], ['auth/x', 'kv'], ['cubbyhole', 'kv'], ['new', 'nosuch'], ['a/../b', 'kv']]) {
      await assert.rejects(t.request('update', `sys/mounts/${path}`, { type }), { code: 'invalid_request' }, path);
    }
    await assert.rejects(t.request('delete', 'sys/mounts/sys'), { code: 'invalid_request' });
    // Singletons: a second system, token or cubbyhole mount would share (and on disable, wipe) their storage.
    for (const [table, type] of [['mounts', 'system'], ['mounts', 'cubbyhole'], ['auth', 'token'], ['mounts', 'token']]) {
      await assert.rejects(t.request('update', `sys/${table}/second-${type}`, { type }), { code: 'invalid_request' }, `${table} ${type}`);
    }
    assert.ok(await t.request('read', 'sys/policy/default'), 'policies survive');
    await assert.rejects(t.request('delete', 'sys/mounts/cubbyhole'), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'sys/mounts/x', { type: 'kv', config: { default_lease_ttl: '2h', max_lease_ttl: '1h' } }), { code: 'invalid_request' });
  });

  it('lists auth methods with the token method, and needs sudo to change them', async () => {
    const t = await newTestCore();
    const auth = data(await t.request('read', 'sys/auth'));
    assert.equal((auth['token/'] as Data)['type'], 'token');
    assert.match(String((auth['token/'] as Data)['accessor']), /^auth_token_/);
    await assert.rejects(t.request('delete', 'sys/auth/token'), { code: 'invalid_request' });
    await t.request('update', 'sys/policy/ops', { policy: 'path "sys/auth/*" { capabilities = ["create", "update", "delete"] }\npath "sys/auth" { capabilities = ["read"] }' });
    const ops = (await t.request('update', 'auth/token/create', { policies: ['ops'] }))!.auth!.clientToken;
    assert.ok(await t.request('read', 'sys/auth', {}, ops));
    await assert.rejects(t.request('update', 'sys/auth/token/tune', { default_lease_ttl: '1h' }, ops), { code: 'permission_denied' });
  });

  it('answers internal/ui/mounts with only what the token can use', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/app', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
    const app = (await t.request('update', 'auth/token/create', { policies: ['app'] }))!.auth!.clientToken;
    await t.request('update', 'sys/mounts/hidden', { type: 'kv' });
    const ui = data(await t.request('read', 'sys/internal/ui/mounts', {}, app));
    // secret/ by the app policy; cubbyhole/ and sys/ by the default policy; never hidden/.
    assert.deepEqual(Object.keys(ui['secret'] as Data).sort(), ['cubbyhole/', 'secret/', 'sys/']);
    const one = data(await t.request('read', 'sys/internal/ui/mounts/secret/app/x', {}, app));
    assert.equal(one['path'], 'secret/');
    assert.deepEqual(one['options'], { version: '2' });
    await assert.rejects(t.request('read', 'sys/internal/ui/mounts/cubbyhole/x', {}, 'hvs.invalid'), { code: 'permission_denied' });
    await assert.rejects(t.request('read', 'sys/internal/ui/mounts/nomount/x', {}, app), { code: 'permission_denied' });
  });
});

describe('sys/policy and sys/policies/acl', () => {
  it('writes, reads, lists and deletes policies on both paths', async () => {
    const t = await newTestCore();
    const text = '# comment\npath "secret/*" {\n  capabilities = ["read"]\n}\n';
    await t.request('update', 'sys/policies/acl/Reader', { policy: text });
    assert.deepEqual(data(await t.request('read', 'sys/policies/acl/reader')), { name: 'reader', policy: text });
    assert.deepEqual(data(await t.request('read', 'sys/policy/reader')), { name: 'reader', rules: text });
    assert.deepEqual(data(await t.request('list', 'sys/policies/acl')).keys, ['default', 'reader', 'root']);
    assert.deepEqual(data(await t.request('read', 'sys/policy'))['policies'], ['default', 'reader', 'root']);
    await t.request('update', 'sys/policy/b64', { policy: Buffer.from(text).toString('base64') });
    assert.equal(data(await t.request('read', 'sys/policy/b64'))['rules'], text);
    await t.request('delete', 'sys/policies/acl/reader');
    assert.equal(await t.request('read', 'sys/policies/acl/reader'), null);
  });

  it('protects root and default, and rejects invalid policies with the line', async () => {
    const t = await newTestCore();
    await assert.rejects(t.request('update', 'sys/policy/root', { policy: 'path "a" { capabilities = ["read"] }' }), { message: 'cannot update "root" policy' });
    await assert.rejects(t.request('delete', 'sys/policy/default'), { message: 'cannot delete "default" policy' });
    await assert.rejects(t.request('delete', 'sys/policy/root'), { code: 'invalid_request' });
    // The line of the bad token, not of the path block around it.
    await assert.rejects(t.request('update', 'sys/policy/bad', { policy: 'path "a" {\n capabilities = ["rread"]\n}' }), /line 2: path "a": invalid capability "rread"/);
    await assert.rejects(t.request('update', 'sys/policy/bad', { policy: 'path "a" {\n  capabilities = [\n    "read",\n    "lst",\n  ]\n}' }), /line 4:/);
    await assert.rejects(t.request('update', 'sys/policy/bad', { policy: '\npath "a" {\n  capabilities = ["read"]\n  colour = "red"\n}' }), /line 4: path "a": invalid key "colour"/);
    await assert.rejects(t.request('update', 'sys/policy/empty', { policy: '' }), { code: 'invalid_request' });
  });

  it('changes what existing tokens may do as soon as the policy changes', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/p', { policy: 'path "secret/data/x" { capabilities = ["read"] }' });
    await t.request('update', 'secret/data/x', { data: { v: 1 } });
    const tok = (await t.request('update', 'auth/token/create', { policies: ['p'] }))!.auth!.clientToken;
    assert.ok(await t.request('read', 'secret/data/x', {}, tok));
    await t.request('update', 'sys/policy/p', { policy: 'path "secret/data/y" { capabilities = ["read"] }' });
    await assert.rejects(t.request('read', 'secret/data/x', {}, tok), { code: 'permission_denied' });
  });
});

describe('sys/capabilities', () => {
  it('reports capabilities by token, accessor and self', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/p', { policy: 'path "secret/data/*" { capabilities = ["read", "list"] }' });
    const created = (await t.request('update', 'auth/token/create', { policies: ['p'] }))!.auth!;
    assert.deepEqual(data(await t.request('update', 'sys/capabilities', { token: created.clientToken, path: 'secret/data/a' })), { 'secret/data/a': ['list', 'read'], capabilities: ['list', 'read'] });
    assert.deepEqual(data(await t.request('update', 'sys/capabilities-accessor', { accessor: created.accessor, paths: ['secret/data/a', 'sys/mounts'] })), { 'secret/data/a': ['list', 'read'], 'sys/mounts': ['deny'] });
    assert.deepEqual(data(await t.request('update', 'sys/capabilities-self', { path: 'secret/data/a' }, created.clientToken))['capabilities'], ['list', 'read']);
    assert.deepEqual(data(await t.request('update', 'sys/capabilities-self', { path: 'x' }))['capabilities'], ['root']);
    assert.deepEqual(data(await t.request('update', 'sys/capabilities-self', { path: 'secret/data/a', paths: ['secret/data/a'] }, created.clientToken))['capabilities'], ['list', 'read']);
    await assert.rejects(t.request('update', 'sys/capabilities', { token: 'hvs.nope', path: 'x' }), { message: 'invalid token' });
  });
});
