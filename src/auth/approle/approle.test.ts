import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newTestCore, type TestCore } from '../../core/testing.js';
import type { AuthResult } from '../../logical/index.js';
import type { ManualClock } from '../../util/index.js';

const cores: TestCore[] = [];
after(async () => {
  for (const t of cores) await t.core.seal();
});

async function setup(): Promise<TestCore> {
  const t = await newTestCore();
  cores.push(t);
  await t.request('update', 'sys/auth/approle', { type: 'approle' });
  await t.request('update', 'sys/policy/app', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
  return t;
}

async function roleId(t: TestCore, role: string): Promise<string> {
  return String((await t.request('read', `auth/approle/role/${role}/role-id`))?.data?.['role_id']);
}

async function secretId(t: TestCore, role: string, data: Record<string, unknown> = {}): Promise<{ secret_id: string; secret_id_accessor: string }> {
  const res = await t.request('update', `auth/approle/role/${role}/secret-id`, data);
  return res?.data as { secret_id: string; secret_id_accessor: string };
}

async function login(t: TestCore, data: Record<string, unknown>, remoteAddress = ''): Promise<AuthResult> {
  const { response } = await t.core.handle({ operation: 'update', path: 'auth/approle/login', data, token: '', connection: { remoteAddress, peerCertificates: [] } });
  assert.ok(response?.auth);
  return response.auth;
}

describe('approle auth method', () => {
  it('creates, reads, lists and deletes roles; role names are case-insensitive', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/Web', { token_policies: 'app', token_ttl: '20m', token_max_ttl: '30m', secret_id_ttl: '10m', secret_id_num_uses: 40 });
    const read = await t.request('read', 'auth/approle/role/web');
    assert.equal(read?.data?.['token_ttl'], 1200);
    assert.equal(read?.data?.['secret_id_num_uses'], 40);
    assert.equal(read?.data?.['bind_secret_id'], true);
    assert.deepEqual(read?.data?.['token_policies'], ['app']);
    assert.deepEqual((await t.request('list', 'auth/approle/role'))?.data?.['keys'], ['web']);
    await t.request('update', 'auth/approle/role/web/token-ttl', { token_ttl: 60 });
    assert.deepEqual((await t.request('read', 'auth/approle/role/web/token-ttl'))?.data, { token_ttl: 60 });
    await t.request('delete', 'auth/approle/role/web/token-ttl');
    assert.deepEqual((await t.request('read', 'auth/approle/role/web/token-ttl'))?.data, { token_ttl: 0 });
    await t.request('delete', 'auth/approle/role/web');
    assert.equal(await t.request('read', 'auth/approle/role/web'), null);
    await assert.rejects(t.request('update', 'auth/approle/role/open', { bind_secret_id: false }), { message: 'at least one constraint should be enabled on the role' });
  });

  it('logs in with role id and secret-id, carrying metadata, policies and the role\'s TTL', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/web', { policies: 'app', token_ttl: '20m' });
    const rid = await roleId(t, 'web');
    const sid = await secretId(t, 'web', { metadata: JSON.stringify({ tier: 'frontend' }) });
    const auth = await login(t, { role_id: rid, secret_id: sid.secret_id });
    assert.deepEqual(auth.tokenPolicies, ['app', 'default']);
    assert.deepEqual(auth.metadata, { role_name: 'web', tier: 'frontend' });
    assert.equal(auth.leaseDuration, 1200);
    assert.ok(auth.entityId);
    const again = await login(t, { role_id: rid, secret_id: sid.secret_id });
    assert.equal(again.entityId, auth.entityId, 'one entity per role id');
    const renewed = await t.request('update', 'auth/token/renew-self', {}, auth.clientToken);
    assert.equal(renewed?.auth?.leaseDuration, 1200);
  });

  it('gives every failed login the same answer', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/web', {});
    const rid = await roleId(t, 'web');
    const sid = await secretId(t, 'web');
    const refused = { code: 'invalid_request', message: 'invalid role or secret ID' };
    await assert.rejects(login(t, { role_id: 'nope', secret_id: sid.secret_id }), refused);
    await assert.rejects(login(t, { role_id: rid, secret_id: 'nope' }), refused);
    await assert.rejects(login(t, { role_id: rid }), refused);
    await t.request('update', 'auth/approle/role/web/secret-id/destroy', { secret_id: sid.secret_id });
    await assert.rejects(login(t, { role_id: rid, secret_id: sid.secret_id }), refused, 'a destroyed secret-id never logs in');
  });

  it('spends secret_id_num_uses exactly: of 20 parallel logins with one use, one succeeds', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/once', { secret_id_num_uses: 1 });
    const rid = await roleId(t, 'once');
    const sid = await secretId(t, 'once');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => login(t, { role_id: rid, secret_id: sid.secret_id })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(await t.request('list', 'auth/approle/role/once/secret-id'), null, 'the spent secret-id is gone');
  });

  it('expires secret-ids after secret_id_ttl, and tidy removes them', async () => {
    const t = await setup();
    const clock = t.clock as ManualClock;
    await t.request('update', 'auth/approle/role/short', { secret_id_ttl: '1m' });
    const rid = await roleId(t, 'short');
    const sid = await secretId(t, 'short');
    await assert.rejects(t.request('update', 'auth/approle/role/short/secret-id', { ttl: '2m' }), { code: 'invalid_request' });
    const lookup = await t.request('update', 'auth/approle/role/short/secret-id/lookup', { secret_id: sid.secret_id });
    assert.equal(lookup?.data?.['secret_id_ttl'], 60);
    clock.advance(61);
    await assert.rejects(login(t, { role_id: rid, secret_id: sid.secret_id }), { message: 'invalid role or secret ID' });
    await secretId(t, 'short');
    clock.advance(61);
    const tidy = await t.request('update', 'auth/approle/tidy/secret-id');
    assert.equal(tidy?.httpStatus, 202);
    assert.equal(await t.request('list', 'auth/approle/role/short/secret-id'), null);
  });

  it('looks up and destroys by accessor only within the role named in the path', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/a', {});
    await t.request('update', 'auth/approle/role/b', {});
    const sid = await secretId(t, 'a');
    assert.deepEqual((await t.request('list', 'auth/approle/role/a/secret-id'))?.data?.['keys'], [sid.secret_id_accessor]);
    const own = await t.request('update', 'auth/approle/role/a/secret-id-accessor/lookup', { secret_id_accessor: sid.secret_id_accessor });
    assert.equal(own?.data?.['secret_id_accessor'], sid.secret_id_accessor);
    assert.ok(!JSON.stringify(own?.data).includes(sid.secret_id), 'a lookup never shows the secret-id');
    await assert.rejects(t.request('update', 'auth/approle/role/b/secret-id-accessor/lookup', { secret_id_accessor: sid.secret_id_accessor }), { code: 'not_found' });
    await assert.rejects(t.request('update', 'auth/approle/role/b/secret-id-accessor/destroy', { secret_id_accessor: sid.secret_id_accessor }), { code: 'not_found' });
    assert.equal(await t.request('update', 'auth/approle/role/b/secret-id/lookup', { secret_id: sid.secret_id }), null);
    await t.request('update', 'auth/approle/role/a/secret-id-accessor/destroy', { secret_id_accessor: sid.secret_id_accessor });
    assert.equal(await t.request('list', 'auth/approle/role/a/secret-id'), null);
  });

  it('registers custom secret-ids and sets the role id', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/push', {});
    await t.request('update', 'auth/approle/role/push/role-id', { role_id: 'push-role' });
    await t.request('update', 'auth/approle/role/push/custom-secret-id', { secret_id: 'chosen-secret' });
    await assert.rejects(t.request('update', 'auth/approle/role/push/custom-secret-id', { secret_id: 'chosen-secret' }), { message: 'SecretID is already registered' });
    await login(t, { role_id: 'push-role', secret_id: 'chosen-secret' });
    await t.request('update', 'auth/approle/role/other', {});
    await assert.rejects(t.request('update', 'auth/approle/role/other/role-id', { role_id: 'push-role' }), { message: 'role_id already in use' });
  });

  it('binds logins to secret_id_bound_cidrs and cidr_list, and tokens to token_bound_cidrs', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/net', { secret_id_bound_cidrs: '10.0.0.0/8', token_bound_cidrs: '10.0.0.0/8' });
    const rid = await roleId(t, 'net');
    await assert.rejects(secretId(t, 'net', { cidr_list: '192.168.0.0/16' }), { code: 'invalid_request' });
    const sid = await secretId(t, 'net', { cidr_list: '10.1.0.0/16', token_bound_cidrs: '10.1.2.0/24' });
    await assert.rejects(login(t, { role_id: rid, secret_id: sid.secret_id }, '10.2.0.1'), { code: 'permission_denied' });
    const auth = await login(t, { role_id: rid, secret_id: sid.secret_id }, '10.1.0.1');
    const use = (remoteAddress: string) => t.core.handle({ operation: 'read', path: 'auth/token/lookup-self', data: {}, token: auth.clientToken, connection: { remoteAddress, peerCertificates: [] } });
    assert.ok((await use('10.1.2.9')).response);
    await assert.rejects(use('10.1.3.9'), { code: 'permission_denied' });
  });

  it('logs in with the role id alone when the role binds no secret-id', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/bare', { bind_secret_id: false, secret_id_bound_cidrs: '127.0.0.1/32' });
    const rid = await roleId(t, 'bare');
    await login(t, { role_id: rid }, '127.0.0.1');
    await assert.rejects(login(t, { role_id: rid }, '10.0.0.1'), { code: 'permission_denied' });
  });

  it('stops renewing a token once its role is deleted', async () => {
    const t = await setup();
    await t.request('update', 'auth/approle/role/gone', {});
    const auth = await login(t, { role_id: await roleId(t, 'gone'), secret_id: (await secretId(t, 'gone')).secret_id });
    await t.request('delete', 'auth/approle/role/gone');
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, auth.clientToken), { message: 'role no longer exists' });
  });
});
