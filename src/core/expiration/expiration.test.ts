import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InmemStorage } from '../../storage/index.js';
import { ManualClock } from '../../util/index.js';
import { newTestCore, type TestCore } from '../testing.js';
import { leasingEngine } from './testing.js';

async function setup(opts: { storage?: InmemStorage; leaseWindow?: number; maxAttempts?: number } = {}) {
  const clock = new ManualClock();
  const engine = leasingEngine();
  const t = await newTestCore({
    clock,
    engines: engine.registry,
    ...(opts.storage ? { storage: opts.storage } : {}),
    ...(opts.leaseWindow ? { leaseWindow: opts.leaseWindow } : {}),
    revocation: { maxAttempts: opts.maxAttempts ?? 3, initialBackoff: 10, maxBackoff: 40 },
  });
  await t.request('update', 'sys/mounts/db', { type: 'leasing' });
  return { t, clock, ...engine };
}

async function mint(t: TestCore, token?: string, ttl?: number) {
  const res = await t.request('read', 'db/creds/app', ttl ? { ttl } : {}, token);
  assert.ok(res?.lease, 'the response carries a lease');
  return { id: res.lease.id, duration: res.lease.duration, renewable: res.lease.renewable, user: String(res.data?.['username']) };
}

const lookup = (t: TestCore, id: string) => t.request('update', 'sys/leases/lookup', { lease_id: id });

describe('leases', () => {
  it('registers a lease for a minted secret, named after its path, before the response leaves', async () => {
    const { t } = await setup();
    const lease = await mint(t);
    assert.match(lease.id, /^db\/creds\/app\/[0-9A-Za-z]{24}$/);
    assert.equal(lease.duration, 60);
    assert.equal(lease.renewable, true);
    const found = await lookup(t, lease.id);
    assert.equal(found?.data?.['id'], lease.id);
    assert.equal(found?.data?.['ttl'], 60);
    assert.equal(found?.data?.['last_renewal'], null);
    assert.equal(found?.data?.['internalData'], undefined, 'internal data is never shown');
  });

  it('caps a lease at the mount\'s max TTL', async () => {
    const { t } = await setup();
    await t.request('update', 'sys/mounts/db/tune', { max_lease_ttl: '30s' });
    assert.equal((await mint(t)).duration, 30);
  });

  it('revokes through the backend when the lease expires, and forgets it', async () => {
    const { t, clock, revoked } = await setup();
    const lease = await mint(t);
    clock.advance(59);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, []);
    clock.advance(1);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, [lease.user]);
    await assert.rejects(lookup(t, lease.id), { message: 'invalid lease' });
  });

  it('renews through the backend, within the role\'s max TTL, and expires at the new time', async () => {
    const { t, clock, renewed, revoked } = await setup();
    const lease = await mint(t);
    clock.advance(50);
    const res = await t.request('update', 'sys/leases/renew', { lease_id: lease.id, increment: '2m' });
    assert.equal(res?.lease?.id, lease.id);
    assert.equal(res?.lease?.duration, 120);
    assert.deepEqual(renewed, [lease.user]);
    clock.advance(60);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, [], 'the old expiry no longer applies');
    assert.ok((await lookup(t, lease.id))?.data?.['last_renewal']);
    // 110 s after issue, a 10-minute increment is capped at the role's 300 s max.
    const capped = await t.request('update', 'sys/renew', { lease_id: lease.id, increment: 600 });
    assert.equal(capped?.lease?.duration, 190);
    assert.match(capped?.warnings?.[0] ?? '', /exceeded the effective max_ttl/);
    clock.advance(190);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, [lease.user]);
  });

  it('takes the lease id from the URL when the body has none', async () => {
    const { t, revoked } = await setup();
    const lease = await mint(t);
    assert.equal((await t.request('update', `sys/leases/renew/${lease.id}`, {}))?.lease?.duration, 60);
    await t.request('update', `sys/leases/revoke/${lease.id}`, {});
    assert.deepEqual(revoked, [lease.user]);
  });

  it('retries a failed revocation with backoff, then keeps it as irrevocable with its error', async () => {
    const { t, clock, state, revoked } = await setup({ maxAttempts: 3 });
    const lease = await mint(t);
    state.failing = true;
    clock.advance(60);
    await t.core.sweepExpiredLeases();
    let info = (await lookup(t, lease.id))!.data!;
    assert.equal(info['revoke_attempts'], 1);
    assert.equal(info['irrevocable'], false);
    assert.equal(info['revoke_error'], 'connection refused by the stand-in database');
    assert.equal(info['next_revoke_attempt'], new Date(clock.now() + 10_000).toISOString());
    clock.advance(10);
    await t.core.sweepExpiredLeases();
    assert.equal((await lookup(t, lease.id))!.data!['revoke_attempts'], 2);
    clock.advance(19);
    await t.core.sweepExpiredLeases();
    assert.equal((await lookup(t, lease.id))!.data!['revoke_attempts'], 2, 'the second backoff is 20 s');
    clock.advance(1);
    await t.core.sweepExpiredLeases();
    info = (await lookup(t, lease.id))!.data!;
    assert.equal(info['irrevocable'], true);
    assert.equal(info['revoke_attempts'], 3);

    const listed = await t.request('read', 'sys/leases', { type: 'irrevocable' });
    assert.equal(listed?.data?.['lease_count'], 1);
    const [item] = listed?.data?.['leases'] as { lease_id: string; error: string }[];
    assert.equal(item?.lease_id, lease.id);
    assert.equal(item?.error, 'connection refused by the stand-in database');
    const counted = await t.request('read', 'sys/leases/count', { type: 'irrevocable' });
    assert.equal(counted?.data?.['lease_count'], 1);
    await assert.rejects(t.request('read', 'sys/leases/count', { type: 'all' }), { code: 'invalid_request' });

    // Nothing retries an irrevocable lease on its own; a sync revoke says why it still fails.
    clock.advance(3600);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, []);
    await assert.rejects(t.request('update', 'sys/leases/revoke', { lease_id: lease.id, sync: true }), { message: /failed to revoke lease: connection refused/ });
    state.failing = false;
    await t.request('update', 'sys/leases/revoke', { lease_id: lease.id, sync: true });
    assert.deepEqual(revoked, [lease.user]);
    assert.equal((await t.request('read', 'sys/leases', { type: 'irrevocable' }))?.data?.['lease_count'], 0);
  });

  it('revoke-force deletes leases whose revocation fails; revoke-prefix does not', async () => {
    const { t, state } = await setup();
    const a = await mint(t);
    state.failing = true;
    await assert.rejects(t.request('update', 'sys/leases/revoke-prefix/db/creds', { sync: true }), { message: /failed to revoke 1 of 1 leases/ });
    assert.ok(await lookup(t, a.id));
    await t.request('update', 'sys/leases/revoke-force/db/creds');
    await assert.rejects(lookup(t, a.id), { message: 'invalid lease' });
  });

  it('revokes every lease under a prefix, and lists them with sudo only', async () => {
    const { t, revoked } = await setup();
    const leases = [await mint(t), await mint(t), await mint(t)];
    const listed = await t.request('list', 'sys/leases/lookup/db/creds/app/');
    assert.deepEqual(listed?.data?.['keys'], leases.map((l) => l.id.split('/').pop()).sort());
    assert.deepEqual((await t.request('list', 'sys/leases/lookup/db/'))?.data?.['keys'], ['creds/']);
    await t.request('update', 'sys/policies/acl/reader', { policy: 'path "sys/leases/lookup/*" { capabilities = ["list"] }' });
    const reader = (await t.request('update', 'auth/token/create', { policies: ['reader'] }))!.auth!.clientToken;
    await assert.rejects(t.request('list', 'sys/leases/lookup/db/', {}, reader), { code: 'permission_denied' });
    await t.request('update', 'sys/revoke-prefix/db/creds/app');
    assert.deepEqual([...revoked].sort(), leases.map((l) => l.user).sort());
    assert.equal(await t.request('list', 'sys/leases/lookup/db/creds/app/'), null);
  });

  it('revokes the leases of a revoked token and of its children', async () => {
    const { t, revoked } = await setup();
    const parent = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    const child = (await t.request('update', 'auth/token/create', {}, parent))!.auth!.clientToken;
    const other = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    const a = await mint(t, parent);
    const b = await mint(t, child);
    const c = await mint(t, other);
    await t.request('update', 'auth/token/revoke', { token: parent });
    assert.deepEqual([...revoked].sort(), [a.user, b.user].sort());
    assert.ok(await lookup(t, c.id));
  });

  it('keeps leases across seal and unseal, and revokes at unseal those that expired meanwhile', async () => {
    const storage = new InmemStorage();
    const { t, clock, revoked } = await setup({ storage });
    const soon = await mint(t, undefined, 30);
    const later = await mint(t, undefined, 120);
    await t.core.seal();
    clock.advance(60);
    for (const k of t.keys) await t.core.unseal(k);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, [soon.user]);
    assert.equal((await lookup(t, later.id))?.data?.['ttl'], 60);
    clock.advance(60);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, [soon.user, later.user]);
  });

  it('holds a bounded window in memory and still expires every lease in order', async () => {
    const { t, clock, revoked } = await setup({ leaseWindow: 16 });
    const users: string[] = [];
    // Spread over 200 distinct seconds, issued in an order unrelated to expiry.
    for (let i = 0; i < 200; i++) users.push((await mint(t, undefined, 10 + ((i * 37) % 200))).user);
    assert.ok(t.core.leaseWindowSize <= 32, `window holds ${t.core.leaseWindowSize}`);
    for (let s = 0; s < 220; s++) {
      clock.advance(1);
      await t.core.sweepExpiredLeases();
      assert.ok(t.core.leaseWindowSize <= 32 + 16, `window holds ${t.core.leaseWindowSize}`);
    }
    assert.equal(revoked.length, 200);
    assert.deepEqual([...revoked].sort(), [...users].sort());
  });

  it('revokes a mount\'s leases when it is disabled, and refuses to disable it when that fails', async () => {
    const { t, state, revoked } = await setup();
    const lease = await mint(t);
    state.failing = true;
    await assert.rejects(t.request('delete', 'sys/mounts/db'), { message: /failed to revoke 1 of 1 leases under "db\/"/ });
    assert.ok((await t.request('read', 'sys/mounts'))?.data?.['db/'], 'the mount stays');
    state.failing = false;
    await t.request('delete', 'sys/mounts/db');
    assert.deepEqual(revoked, [lease.user]);
  });

  it('moves leases with their mount, and revokes them at the new path', async () => {
    const { t, clock, revoked } = await setup();
    const lease = await mint(t);
    await t.request('update', 'sys/remount', { from: 'db', to: 'moved' });
    await assert.rejects(lookup(t, lease.id), { message: 'invalid lease' });
    const movedId = lease.id.replace(/^db\//, 'moved/');
    assert.equal((await lookup(t, movedId))?.data?.['id'], movedId);
    clock.advance(60);
    await t.core.sweepExpiredLeases();
    assert.deepEqual(revoked, [lease.user]);
  });

  it('tidy revokes the leases of tokens that are gone', async () => {
    const { t, revoked } = await setup();
    const token = (await t.request('update', 'auth/token/create', { ttl: '1h' }))!.auth!.clientToken;
    const lease = await mint(t, token);
    const res = await t.request('update', 'sys/leases/tidy');
    assert.equal(res?.data?.['revoked_leases'], 0);
    assert.ok(await lookup(t, lease.id));
    assert.deepEqual(revoked, []);
  });

  it('refuses lease ids that would name another key, without echoing them', async () => {
    const { t } = await setup();
    for (const bad of ['db/../sys/x', 'db//x', 'db/./x', '']) {
      await assert.rejects(lookup(t, bad), (e: Error) => /lease_id/.test(e.message) && !e.message.includes(bad || '\u0000'));
    }
  });
});
