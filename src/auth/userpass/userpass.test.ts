import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newTestCore, type TestCore } from '../../core/testing.js';
import type { AuthResult, ConnectionInfo } from '../../logical/index.js';
import type { ManualClock } from '../../util/index.js';

const cores: TestCore[] = [];
after(async () => {
  for (const t of cores) await t.core.seal();
});

async function setup(path = 'userpass'): Promise<TestCore> {
  const t = await newTestCore();
  cores.push(t);
  await t.request('update', `sys/auth/${path}`, { type: 'userpass' });
  await t.request('update', 'sys/policy/app', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
  return t;
}

const from = (remoteAddress: string): ConnectionInfo => ({ remoteAddress, peerCertificates: [] });

async function login(t: TestCore, user: string, password: string, opts: { path?: string; address?: string } = {}): Promise<AuthResult> {
  const { response } = await t.core.handle({
    operation: 'update',
    path: `auth/${opts.path ?? 'userpass'}/login/${user}`,
    data: { password },
    token: '',
    ...(opts.address ? { connection: from(opts.address) } : {}),
  });
  assert.ok(response?.auth, 'a login answers with an auth block');
  return response.auth;
}

describe('userpass auth method', () => {
  it('logs a user in with the core-minted token: policies, metadata, entity, orphan, TTL', async () => {
    const t = await setup('people');
    await t.request('update', 'auth/people/users/alice', { password: 's3cret', token_policies: 'app', token_ttl: '1h', token_max_ttl: '2h' });
    const auth = await login(t, 'alice', 's3cret', { path: 'people' });
    assert.deepEqual(auth.tokenPolicies, ['app', 'default']);
    assert.deepEqual(auth.metadata, { username: 'alice' });
    assert.equal(auth.leaseDuration, 3600);
    assert.equal(auth.orphan, true);
    assert.equal(auth.renewable, true);
    assert.equal(auth.tokenType, 'service');
    assert.match(auth.entityId, /^[0-9a-f-]{36}$/);
    const self = await t.request('read', 'auth/token/lookup-self', {}, auth.clientToken);
    assert.equal(self?.data?.['display_name'], 'people-alice');
    assert.equal(self?.data?.['path'], 'auth/people/login/alice');
    assert.equal(self?.data?.['entity_id'], auth.entityId);
    await t.request('update', 'secret/data/app/db', { data: { pw: 'x' } });
    assert.ok(await t.request('read', 'secret/data/app/db', {}, auth.clientToken));
    await assert.rejects(t.request('read', 'secret/data/other', {}, auth.clientToken), { code: 'permission_denied' });
  });

  it('issues a batch token when the user says token_type=batch: no accessor, not renewable, usable at once', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/bo', { password: 'pw', token_policies: 'app', token_type: 'batch', token_ttl: '5m' });
    await t.request('update', 'secret/data/app/x', { data: { v: 1 } });
    const auth = await login(t, 'bo', 'pw');
    assert.match(auth.clientToken, /^hvb\./);
    assert.equal(auth.tokenType, 'batch');
    assert.equal(auth.accessor, '');
    assert.equal(auth.renewable, false);
    assert.equal(auth.leaseDuration, 300);
    assert.ok(auth.entityId);
    assert.ok(await t.request('read', 'secret/data/app/x', {}, auth.clientToken));
    assert.equal((await t.request('read', 'auth/token/lookup-self', {}, auth.clientToken))?.data?.['display_name'], 'userpass-bo');
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, auth.clientToken), { message: 'batch tokens cannot be renewed' });
    await assert.rejects(t.request('update', 'auth/userpass/users/bo', { token_type: 'batch', token_num_uses: 3 }).then(() => login(t, 'bo', 'pw')), { message: 'batch tokens cannot have a use limit' });
  });

  it('follows the mount\'s tuned token_type: forced service or batch, or a default the user may override', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/plain', { password: 'pw-plain', token_policies: 'app' });
    await t.request('update', 'auth/userpass/users/picky', { password: 'pw-picky', token_type: 'service' });
    await t.request('update', 'auth/userpass/users/periodic', { password: 'pw-periodic', token_period: '1h' });
    assert.equal((await t.request('read', 'sys/auth/userpass/tune'))?.data?.['token_type'], 'default-service');
    assert.equal((await login(t, 'plain', 'pw-plain')).tokenType, 'service');

    await t.request('update', 'sys/auth/userpass/tune', { token_type: 'default-batch' });
    assert.equal((await t.request('read', 'sys/auth/userpass/tune'))?.data?.['token_type'], 'default-batch');
    const batch = await login(t, 'plain', 'pw-plain');
    assert.equal(batch.tokenType, 'batch');
    assert.match(batch.clientToken, /^hvb\./);
    assert.equal((await login(t, 'picky', 'pw-picky')).tokenType, 'service', 'a user naming a type keeps it under a default');
    assert.equal((await login(t, 'periodic', 'pw-periodic')).tokenType, 'service', 'a periodic token cannot be batch');

    await t.request('update', 'sys/auth/userpass/tune', { token_type: 'batch' });
    assert.equal((await login(t, 'picky', 'pw-picky')).tokenType, 'batch', 'a forced type wins over the user\'s');
    await t.request('update', 'sys/auth/userpass/tune', { token_type: 'service' });
    assert.equal((await login(t, 'plain', 'pw-plain')).tokenType, 'service');

    await assert.rejects(t.request('update', 'sys/auth/userpass/tune', { token_type: 'sometimes' }), { message: /invalid token_type/ });
    await assert.rejects(t.request('update', 'sys/auth/userpass/tune', { token_type: 7 }), { message: /invalid token_type/ });
    await assert.rejects(t.request('update', 'sys/auth/token/tune', { token_type: 'batch' }), { message: 'token_type cannot be set on the token auth mount' });
    await assert.rejects(t.request('update', 'sys/mounts/secret/tune', { token_type: 'batch' }), { message: 'token_type can only be set on auth mounts' });
    await t.request('update', 'sys/auth/userpass2', { type: 'userpass', config: { token_type: 'default-batch' } });
    assert.equal(((await t.request('read', 'sys/auth'))?.data?.['userpass2/'] as { config: Record<string, unknown> }).config['token_type'], 'default-batch');
  });

  it('treats case variants of a name as one user and one entity', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/Bob', { password: 'pw' });
    const a = await login(t, 'bob', 'pw');
    const b = await login(t, 'BOB', 'pw');
    assert.equal(a.entityId, b.entityId);
    assert.deepEqual((await t.request('list', 'auth/userpass/users/'))?.data?.['keys'], ['bob']);
  });

  it('answers a wrong password and an unknown user alike, and never returns the password', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/carol', { password: 'right' });
    const refusal = { code: 'invalid_request', message: 'invalid username or password' };
    await assert.rejects(login(t, 'carol', 'wrong'), refusal);
    await assert.rejects(login(t, 'nobody', 'wrong'), refusal);
    await assert.rejects(login(t, 'carol', ''), refusal);
    const read = await t.request('read', 'auth/userpass/users/carol');
    assert.ok(read?.data);
    assert.ok(!JSON.stringify(read.data).includes('right'));
    assert.ok(!('password' in read.data) && !('password_hash' in read.data));
  });

  it('changes a password and policies; an old token stops renewing once its policies change', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/dave', { password: 'one', policies: 'app' });
    const auth = await login(t, 'dave', 'one');
    const renewed = await t.request('update', 'auth/token/renew-self', {}, auth.clientToken);
    assert.equal(renewed?.auth?.accessor, auth.accessor);
    await t.request('update', 'auth/userpass/users/dave/password', { password: 'two' });
    await assert.rejects(login(t, 'dave', 'one'), { message: 'invalid username or password' });
    await login(t, 'dave', 'two');
    await t.request('update', 'auth/userpass/users/dave/policies', { token_policies: 'app,extra' });
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, auth.clientToken), { message: 'policies have changed, not renewing' });
    await t.request('delete', 'auth/userpass/users/dave');
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, auth.clientToken), { message: 'user no longer exists' });
  });

  it('renews within the user\'s current token_max_ttl', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/erin', { password: 'pw', token_ttl: 60, token_max_ttl: 120 });
    const auth = await login(t, 'erin', 'pw');
    const res = await t.request('update', 'auth/token/renew-self', { increment: '1h' }, auth.clientToken);
    assert.equal(res?.auth?.leaseDuration, 120);
    assert.ok(res?.warnings?.some((w) => w.includes('capped')));
  });

  it('binds login and token use to token_bound_cidrs', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/frank', { password: 'pw', token_bound_cidrs: '10.0.0.0/8', token_policies: 'app' });
    await assert.rejects(login(t, 'frank', 'pw', { address: '192.168.1.5' }), { code: 'permission_denied' });
    const auth = await login(t, 'frank', 'pw', { address: '10.1.2.3' });
    const use = (address: string) => t.core.handle({ operation: 'read', path: 'auth/token/lookup-self', data: {}, token: auth.clientToken, connection: from(address) });
    assert.ok((await use('10.9.9.9')).response?.data);
    await assert.rejects(use('192.168.1.5'), { code: 'permission_denied' });
    await assert.rejects(t.request('update', 'auth/userpass/users/bad', { password: 'pw', token_bound_cidrs: 'not-a-cidr' }), { code: 'invalid_request' });
  });

  it('never issues root, whatever the case or spacing of the name', async () => {
    const t = await setup();
    for (const [i, name] of [' ROOT', 'Root', 'root '].entries()) {
      await t.request('update', `auth/userpass/users/u${i}`, { password: 'pw', token_policies: [name] });
      await assert.rejects(login(t, `u${i}`, 'pw'), { code: 'invalid_request', message: 'auth methods cannot create root tokens' });
    }
  });

  it('revokes the tokens it issued when the mount is disabled', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/gina', { password: 'pw' });
    const auth = await login(t, 'gina', 'pw');
    await t.request('delete', 'sys/auth/userpass');
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, auth.clientToken), { code: 'permission_denied' });
  });

  it('refuses a password bcrypt would silently truncate', async () => {
    const t = await setup();
    await assert.rejects(t.request('update', 'auth/userpass/users/long', { password: 'x'.repeat(73) }), { code: 'invalid_request' });
  });

  it('locks a name out after 5 failures, case variants sharing one counter, known or not', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/hank', { password: 'right' });
    for (const variant of ['hank', 'HANK', 'Hank', 'hAnk', 'hanK']) await assert.rejects(login(t, variant, 'wrong'), { message: 'invalid username or password' });
    await assert.rejects(login(t, 'hank', 'right'), { code: 'permission_denied' }, 'locked: even the right password is refused');
    for (let i = 0; i < 5; i++) await assert.rejects(login(t, 'ghost', 'wrong'), { message: 'invalid username or password' });
    await assert.rejects(login(t, 'ghost', 'wrong'), { code: 'permission_denied' }, 'an unknown name locks the same way');
    const accessor = String(((await t.request('read', 'sys/auth'))?.data?.['userpass/'] as { accessor: string }).accessor);
    const locked = (await t.request('read', 'sys/locked-users'))!.data!;
    assert.equal(locked['total'], 2);
    assert.deepEqual((locked['by_namespace'] as { mount_accessors: { alias_identifiers: string[] }[] }[])[0]!.mount_accessors[0]!.alias_identifiers, ['ghost', 'hank']);
    await t.request('update', `sys/locked-users/${accessor}/unlock/hank`);
    assert.ok(await login(t, 'hank', 'right'));
  });

  it('follows the mount\'s tuned user_lockout_config, and unlocks when the duration has passed', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/ida', { password: 'right' });
    await t.request('update', 'sys/auth/userpass/tune', { user_lockout_config: { lockout_threshold: '2', lockout_duration: '1m' } });
    for (let i = 0; i < 2; i++) await assert.rejects(login(t, 'ida', 'wrong'), { code: 'invalid_request' });
    await assert.rejects(login(t, 'ida', 'right'), { code: 'permission_denied' });
    (t.clock as ManualClock).advance(61);
    assert.ok(await login(t, 'ida', 'right'));
    await t.request('update', 'sys/auth/userpass/tune', { user_lockout_config: { lockout_disable: true } });
    for (let i = 0; i < 4; i++) await assert.rejects(login(t, 'ida', 'wrong'), { code: 'invalid_request' });
    assert.ok(await login(t, 'ida', 'right'), 'lockout_disable turns it off');
  });

  it('takes lockout settings from the config file\'s user_lockout stanzas (the method\'s over "all"), under the mount\'s tuning', async () => {
    const t = await newTestCore({ userLockout: { all: { threshold: 10, duration: 60 }, userpass: { threshold: 2 } } });
    cores.push(t);
    await t.request('update', 'sys/auth/userpass', { type: 'userpass' });
    await t.request('update', 'auth/userpass/users/jo', { password: 'right' });
    for (let i = 0; i < 2; i++) await assert.rejects(login(t, 'jo', 'wrong'), { code: 'invalid_request' });
    await assert.rejects(login(t, 'jo', 'right'), { code: 'permission_denied' }, 'the userpass stanza\'s threshold');
    (t.clock as ManualClock).advance(61);
    assert.ok(await login(t, 'jo', 'right'), 'the "all" stanza\'s duration');
    await t.request('update', 'sys/auth/userpass/tune', { user_lockout_config: { lockout_threshold: '4' } });
    for (let i = 0; i < 3; i++) await assert.rejects(login(t, 'jo', 'wrong'), { code: 'invalid_request' });
    assert.ok(await login(t, 'jo', 'right'), 'the mount\'s tuning wins');
  });

  it('revokes login tokens by lease prefix, as `lease revoke -prefix auth/userpass/login/NAME` does', async () => {
    const t = await setup();
    await t.request('update', 'auth/userpass/users/kim', { password: 'pw' });
    await t.request('update', 'auth/userpass/users/lee', { password: 'pw' });
    const kim = await login(t, 'kim', 'pw');
    const lee = await login(t, 'lee', 'pw');
    const alive = async (a: AuthResult) => (await t.request('read', 'auth/token/lookup-self', {}, a.clientToken).then(() => true, () => false));
    await t.request('update', 'sys/leases/revoke-prefix/auth/userpass/login/kim');
    assert.equal(await alive(kim), false);
    assert.equal(await alive(lee), true);
    await t.request('update', 'sys/leases/revoke-prefix/auth/userpass');
    assert.equal(await alive(lee), false);
    assert.ok(await t.request('read', 'auth/token/lookup-self'), 'the root token, issued elsewhere, lives on');
  });
});
