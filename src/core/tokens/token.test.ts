import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTestCore } from '../testing.js';
import { ManualClock } from '../../util/index.js';

type Data = Record<string, unknown>;
const data = (r: { data?: Data | null } | null): Data => (r?.data ?? {}) as Data;

describe('auth/token', () => {
  it('creates tokens with default policy, inherited policies, and no more than the parent has', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/a', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    const a = (await t.request('update', 'auth/token/create', { policies: ['a'], display_name: 'my app', meta: { team: 'x' } }))!.auth!;
    assert.deepEqual(a.policies, ['a', 'default']);
    assert.equal(a.leaseDuration, 768 * 3600);
    const look = data(await t.request('update', 'auth/token/lookup', { token: a.clientToken }));
    assert.equal(look['display_name'], 'token-my-app');
    assert.deepEqual(look['meta'], { team: 'x' });
    assert.equal(look['id'], a.clientToken);
    const child = (await t.request('update', 'auth/token/create', {}, a.clientToken))!.auth!;
    assert.deepEqual(child.policies, ['a', 'default']);
    await assert.rejects(t.request('update', 'auth/token/create', { policies: ['root'] }, a.clientToken), { code: 'invalid_request' });
    await t.request('update', 'sys/policy/b', { policy: 'path "x" { capabilities = ["read"] }' });
    await assert.rejects(t.request('update', 'auth/token/create', { policies: ['b'] }, a.clientToken), { message: 'child policies must be subset of parent' });
    await assert.rejects(t.request('update', 'auth/token/create', { no_parent: true }, a.clientToken), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'auth/token/create', { period: '1h' }, a.clientToken), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'auth/token/create', { id: 'chosen' }, a.clientToken), { code: 'invalid_request' });
  });

  it('honours the deprecated lease field as the TTL, for children of root too', async () => {
    const t = await newTestCore();
    const child = (await t.request('update', 'auth/token/create', { lease: '1h', renewable: true }))!.auth!;
    assert.deepEqual(child.policies, ['root']);
    assert.equal(child.leaseDuration, 3600);
    assert.equal(child.renewable, true);
    const forever = (await t.request('update', 'auth/token/create', {}))!.auth!;
    assert.equal(forever.leaseDuration, 0, 'a root child asked for no TTL never expires');
    const meta = (await t.request('update', 'auth/token/create', { meta: { n: 7, ok: false } }))!.auth!;
    assert.deepEqual(meta.metadata, { n: '7', ok: '0' });
  });

  it('looks up by accessor without revealing the token, and revokes by accessor', async () => {
    const t = await newTestCore();
    const a = (await t.request('update', 'auth/token/create', {}))!.auth!;
    const look = data(await t.request('update', 'auth/token/lookup-accessor', { accessor: a.accessor }));
    assert.equal(look['id'], '');
    assert.equal(look['accessor'], a.accessor);
    assert.ok((data(await t.request('list', 'auth/token/accessors'))['keys'] as string[]).includes(a.accessor));
    await t.request('update', 'auth/token/revoke-accessor', { accessor: a.accessor });
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, a.clientToken), { code: 'permission_denied' });
  });

  it('renews within the max TTL, caps with a warning, and refuses non-renewable tokens', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const a = (await t.request('update', 'auth/token/create', { ttl: '1h', explicit_max_ttl: '2h' }))!.auth!;
    clock.advance(1800);
    const r1 = await t.request('update', 'auth/token/renew-self', { increment: '1h' }, a.clientToken);
    assert.equal(r1!.auth!.leaseDuration, 3600);
    clock.advance(3000);
    const r2 = await t.request('update', 'auth/token/renew', { token: a.clientToken, increment: '1h' });
    assert.equal(r2!.auth!.leaseDuration, 2400);
    assert.match(String(r2!.warnings?.[0]), /capped/);
    const nr = (await t.request('update', 'auth/token/create', { renewable: false }))!.auth!;
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, nr.clientToken), { message: 'lease is not renewable' });
  });

  it('keeps a periodic token alive by renewing it to its period', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const p = (await t.request('update', 'auth/token/create', { period: '10m' }))!.auth!;
    assert.equal(p.leaseDuration, 600);
    for (let i = 0; i < 5; i++) {
      clock.advance(500);
      assert.equal((await t.request('update', 'auth/token/renew-self', {}, p.clientToken))!.auth!.leaseDuration, 600);
    }
    assert.equal(data(await t.request('read', 'auth/token/lookup-self', {}, p.clientToken))['period'], 600);
  });

  it('requires sudo for revoke-orphan and accessors, and orphans the children', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/plain', { policy: 'path "auth/token/*" { capabilities = ["update", "list", "read"] }' });
    const plain = (await t.request('update', 'auth/token/create', { policies: ['plain'] }))!.auth!.clientToken;
    await assert.rejects(t.request('list', 'auth/token/accessors', {}, plain), { code: 'permission_denied' });
    const parent = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    const child = (await t.request('update', 'auth/token/create', {}, parent))!.auth!.clientToken;
    await assert.rejects(t.request('update', 'auth/token/revoke-orphan', { token: parent }, plain), { code: 'permission_denied' });
    await t.request('update', 'auth/token/revoke-orphan', { token: parent });
    assert.equal(data(await t.request('read', 'auth/token/lookup-self', {}, child))['orphan'], true);
  });

  it('creates tokens from roles with the role\'s policies and period', async () => {
    const t = await newTestCore();
    await t.request('update', 'auth/token/roles/ci', { allowed_policies: ['ci'], token_period: '1h', orphan: true });
    assert.deepEqual(data(await t.request('list', 'auth/token/roles')).keys, ['ci']);
    assert.equal(data(await t.request('read', 'auth/token/roles/ci'))['period'], 3600);
    const tok = (await t.request('update', 'auth/token/create/ci', {}))!.auth!;
    assert.deepEqual(tok.policies, ['ci', 'default']);
    assert.equal(tok.orphan, true);
    assert.equal(tok.leaseDuration, 3600);
    await assert.rejects(t.request('update', 'auth/token/create/ci', { policies: ['admin'] }), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'auth/token/create/none', {}), { code: 'invalid_request' });
    await t.request('update', 'auth/token/roles/jobs', { allowed_policies: ['ci'], token_type: 'default-batch', orphan: true });
    assert.equal((await t.request('update', 'auth/token/create/jobs', {}))!.auth!.tokenType, 'batch', 'the role decides when the caller does not');
    assert.equal((await t.request('update', 'auth/token/create/jobs', { type: 'service' }))!.auth!.tokenType, 'service');
  });

  it('sweeps expired tokens out of storage and their children with them', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const parent = (await t.request('update', 'auth/token/create', { ttl: '1m' }))!.auth!;
    const child = (await t.request('update', 'auth/token/create', { ttl: '1h' }, parent.clientToken))!.auth!;
    clock.advance(61);
    await t.core.sweepExpiredTokens();
    await assert.rejects(t.request('update', 'auth/token/lookup-accessor', { accessor: child.accessor }), { message: 'invalid accessor' });
    assert.ok(!(data(await t.request('list', 'auth/token/accessors'))['keys'] as string[]).includes(parent.accessor));
  });

  it('issues batch tokens that carry their own entry: usable, looked up, never renewed or revoked, dead at their TTL or with their parent', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    await t.request('update', 'sys/policy/app', { policy: 'path "secret/data/app" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }' });
    await t.request('update', 'secret/data/app', { data: { v: 1 } });
    const parent = (await t.request('update', 'auth/token/create', { policies: ['app'], ttl: '2h' }))!.auth!;
    const batch = (await t.request('update', 'auth/token/create', { type: 'batch', policies: ['app'], ttl: '10m' }, parent.clientToken))!.auth!;
    assert.match(batch.clientToken, /^hvb\./);
    assert.equal(batch.tokenType, 'batch');
    assert.equal(batch.accessor, '');
    assert.equal(batch.renewable, false);
    assert.ok(await t.request('read', 'secret/data/app', {}, batch.clientToken));
    const self = data(await t.request('read', 'auth/token/lookup-self', {}, batch.clientToken));
    assert.equal(self['type'], 'batch');
    assert.deepEqual(self['policies'], ['app', 'default']);
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, batch.clientToken), { message: 'batch tokens cannot be renewed' });
    await assert.rejects(t.request('update', 'auth/token/revoke-self', {}, batch.clientToken), { message: 'batch tokens cannot be revoked' });
    await assert.rejects(t.request('update', 'auth/token/revoke', { token: batch.clientToken }), { message: 'batch tokens cannot be revoked' });
    await assert.rejects(t.request('update', 'auth/token/create', {}, batch.clientToken), { message: 'batch tokens cannot create more tokens' });
    await assert.rejects(t.request('update', 'auth/token/create', { type: 'batch', policies: ['app'], period: '1h' }), { message: 'batch tokens cannot be periodic' });
    await assert.rejects(t.request('update', 'auth/token/create', { type: 'batch' }), { message: 'batch tokens cannot be root tokens' });

    // A byte changed anywhere in the token, or a token sealed by another server's key, is no token.
    const tampered = batch.clientToken.slice(0, 20) + (batch.clientToken[20] === 'A' ? 'B' : 'A') + batch.clientToken.slice(21);
    await assert.rejects(t.request('read', 'secret/data/app', {}, tampered), { code: 'permission_denied' });
    const other = await newTestCore({ clock });
    await other.request('update', 'sys/policy/app', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    const otherParent = (await other.request('update', 'auth/token/create', { policies: ['app'] }))!.auth!;
    const foreign = (await other.request('update', 'auth/token/create', { type: 'batch', policies: ['app'], ttl: '10m' }, otherParent.clientToken))!.auth!;
    await assert.rejects(t.request('read', 'secret/data/app', {}, foreign.clientToken), { code: 'permission_denied' });

    // The key outlives a seal: the token still works after unseal, until its TTL ends.
    await t.core.seal();
    for (const k of t.keys) await t.core.unseal(k);
    assert.ok(await t.request('read', 'secret/data/app', {}, batch.clientToken));
    clock.advance(601);
    await assert.rejects(t.request('read', 'secret/data/app', {}, batch.clientToken), { code: 'permission_denied' });

    const child = (await t.request('update', 'auth/token/create', { type: 'batch', policies: ['app'], ttl: '10m' }, parent.clientToken))!.auth!;
    assert.ok(await t.request('read', 'secret/data/app', {}, child.clientToken));
    await t.request('update', 'auth/token/revoke', { token: parent.clientToken });
    await assert.rejects(t.request('read', 'secret/data/app', {}, child.clientToken), { code: 'permission_denied' }, 'revoked with its parent');
  });
});
