import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError, type Operation } from '../../logical/index.js';
import { MemoryView } from '../../logical/testing.js';
import { ManualClock } from '../../util/index.js';
import { leasingEngine } from '../expiration/testing.js';
import { newTestCore, type TestCore } from '../testing.js';
import { QuotaManager } from './quotas.js';

/** A request from one client address. */
function from(t: TestCore, address: string, operation: Operation, path: string, data: Record<string, unknown> = {}, token = t.rootToken) {
  return t.core.handle({ operation, path, data, token, connection: { remoteAddress: address, peerCertificates: [] } });
}

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<CofferError> {
  let caught: unknown;
  await p.catch((e: unknown) => (caught = e));
  assert.ok(caught instanceof CofferError, `refused (got ${String(caught)})`);
  assert.equal(caught.httpStatus, 429);
  assert.match(caught.message, pattern);
  return caught;
}

describe('rate limit quotas', () => {
  it('allow `rate` requests per interval from each client address, then answer 429 with Retry-After', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    await t.request('update', 'secret/data/app', { data: { v: '1' } });
    assert.equal(await t.request('update', 'sys/quotas/rate-limit/kv', { path: 'secret', rate: '3', interval: '10s' }), null);
    assert.deepEqual((await t.request('read', 'sys/quotas/rate-limit/kv'))!.data, { name: 'kv', type: 'rate-limit', path: 'secret/', role: '', rate: 3, interval: 10, block_interval: 0, inheritable: false });
    for (let i = 0; i < 3; i++) await from(t, '10.0.0.1', 'read', 'secret/data/app');
    const e = await refused(from(t, '10.0.0.1', 'read', 'secret/data/app'), /^request path "secret\/data\/app": rate limit quota exceeded$/);
    assert.equal(e.headers?.['Retry-After'], '4', 'one request comes back after interval/rate seconds');
    await from(t, '10.0.0.2', 'read', 'secret/data/app');
    await from(t, '10.0.0.1', 'read', 'sys/mounts');
    clock.advance(4);
    await from(t, '10.0.0.1', 'read', 'secret/data/app');
    await refused(from(t, '10.0.0.1', 'read', 'secret/data/app'), /rate limit quota exceeded/);
  });

  it('refuse before the token is looked up, and keep out a client for block_interval', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    await t.request('update', 'sys/quotas/rate-limit/global', { rate: 1, interval: '1s', block_interval: '1m' });
    await assert.rejects(from(t, '10.0.0.9', 'read', 'secret/data/x', {}, 'not-a-token'), /permission denied/);
    await refused(from(t, '10.0.0.9', 'read', 'secret/data/x', {}, 'not-a-token'), /rate limit quota exceeded/);
    clock.advance(30);
    const blocked = await refused(from(t, '10.0.0.9', 'read', 'secret/data/x'), /rate limit quota exceeded/);
    assert.equal(blocked.headers?.['Retry-After'], '30');
    // The default exemptions keep a locked-out operator's way back open.
    await from(t, '10.0.0.9', 'read', 'sys/seal-status', {}, '');
    clock.advance(31);
    await from(t, '10.0.0.9', 'read', 'secret/data/x').catch((e: Error) => assert.doesNotMatch(e.message, /quota/));
  });

  it('apply the most specific quota, honour the exempt paths and answer the limit headers when asked', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/quotas/rate-limit/global', { rate: 1000 });
    await t.request('update', 'sys/quotas/rate-limit/app', { path: 'secret/data/app', rate: 1, interval: '1h' });
    await from(t, '10.1.0.1', 'read', 'secret/data/app');
    await refused(from(t, '10.1.0.1', 'read', 'secret/data/app'), /rate limit/);
    await from(t, '10.1.0.1', 'read', 'secret/data/other').catch(() => {});
    await t.request('update', 'sys/quotas/config', { rate_limit_exempt_paths: ['secret/data/app'], enable_rate_limit_response_headers: true });
    await from(t, '10.1.0.1', 'read', 'secret/data/app');
    const cfg = (await t.request('read', 'sys/quotas/config'))!.data!;
    assert.deepEqual(cfg['rate_limit_exempt_paths'], ['secret/data/app']);
    const handled = await from(t, '10.1.0.2', 'read', 'secret/data/other');
    assert.equal(handled.headers?.['X-Ratelimit-Limit'], '1000');
    assert.equal(handled.headers?.['X-Ratelimit-Remaining'], '999');
  });

  it('refuse bad settings by field name', async () => {
    const t = await newTestCore();
    await assert.rejects(t.request('update', 'sys/quotas/rate-limit/x', { rate: 0 }), /'rate' is invalid/);
    await assert.rejects(t.request('update', 'sys/quotas/rate-limit/x', { rate: 'fast' }), /'rate' is invalid/);
    await assert.rejects(t.request('update', 'sys/quotas/rate-limit/x', { rate: 1, path: 'nowhere/' }), /invalid mount path "nowhere\/"/);
    await assert.rejects(t.request('update', 'sys/quotas/rate-limit/x', { rate: 1, path: 'secret/', role: 'web' }), /role can only be set/);
    await t.request('update', 'sys/quotas/rate-limit/a', { rate: 1, path: 'secret/' });
    await assert.rejects(t.request('update', 'sys/quotas/rate-limit/b', { rate: 2, path: 'secret' }), /similar properties exists under the name "a"/);
    assert.deepEqual((await t.request('list', 'sys/quotas/rate-limit'))!.data!['keys'], ['a']);
    await t.request('delete', 'sys/quotas/rate-limit/a');
    assert.equal(await t.request('read', 'sys/quotas/rate-limit/a'), null);
  });
});

describe('lease count quotas', () => {
  it('refuse the request that would create a lease beyond max_leases, before the engine mints anything', async () => {
    const engine = leasingEngine();
    const t = await newTestCore({ engines: engine.registry });
    await t.request('update', 'sys/mounts/db', { type: 'leasing' });
    const first = (await t.request('read', 'db/creds/app'))!.lease!.id;
    await t.request('update', 'sys/quotas/lease-count/db', { path: 'db/', max_leases: 2 });
    assert.equal((await t.request('read', 'sys/quotas/lease-count/db'))!.data!['counter'], 1, 'the leases already there count');
    await t.request('read', 'db/creds/app');
    const minted = engine.state.minted;
    await refused(t.request('read', 'db/creds/app'), /^request path "db\/creds\/app": lease count quota exceeded$/);
    assert.equal(engine.state.minted, minted, 'no credential was made');
    await t.request('update', 'sys/leases/revoke', { lease_id: first });
    assert.equal((await t.request('read', 'sys/quotas/lease-count/db'))!.data!['counter'], 1);
    await t.request('read', 'db/creds/app');

    // Parallel requests at the limit cannot overshoot it together.
    await t.request('update', 'sys/quotas/lease-count/db', { max_leases: 5 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => t.request('read', 'db/creds/app')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal((await t.request('read', 'sys/quotas/lease-count/db'))!.data!['counter'], 5);
  });

  it('count the tokens logins issue under an auth mount', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/auth/userpass', { type: 'userpass' });
    await t.request('update', 'auth/userpass/users/ann', { password: 'pw-for-ann', token_ttl: '1h' });
    await t.request('update', 'sys/quotas/lease-count/logins', { path: 'auth/userpass/', max_leases: 1 });
    const login = (await t.request('update', 'auth/userpass/login/ann', { password: 'pw-for-ann' }, ''))!.auth!.clientToken;
    await refused(t.request('update', 'auth/userpass/login/ann', { password: 'pw-for-ann' }, ''), /lease count quota exceeded/);
    await t.request('update', 'auth/token/revoke', { token: login });
    assert.ok((await t.request('update', 'auth/userpass/login/ann', { password: 'pw-for-ann' }, ''))!.auth);
  });
});

describe('quotas and their mounts', () => {
  it('move with a moved mount and go with a disabled one', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/mounts/kv1', { type: 'kv' });
    await t.request('update', 'sys/quotas/rate-limit/kv', { path: 'kv1/', rate: 5 });
    await t.request('update', 'sys/quotas/lease-count/kv', { path: 'kv1/app', max_leases: 5 });
    await t.request('update', 'sys/remount', { from: 'kv1', to: 'kv2' });
    assert.equal((await t.request('read', 'sys/quotas/rate-limit/kv'))!.data!['path'], 'kv2/');
    assert.equal((await t.request('read', 'sys/quotas/lease-count/kv'))!.data!['path'], 'kv2/app');
    await t.request('delete', 'sys/mounts/kv2');
    assert.equal(await t.request('read', 'sys/quotas/rate-limit/kv'), null);
    assert.equal(await t.request('read', 'sys/quotas/lease-count/kv'), null);
  });
});

describe('a lease count quota rewritten while a request holds a slot', () => {
  it('gets the slot back when that request ends', async () => {
    const q = new QuotaManager({ view: new MemoryView(), clock: new ManualClock(), countUnder: async () => 0 });
    const quota = { name: 'db', type: 'lease-count', path: 'db/', role: '', max_leases: 1, inheritable: false } as const;
    await q.set(quota);
    const request = { path: 'db/creds/app', remoteAddress: '10.0.0.1', role: '', mayLease: true };
    const held = q.check(request);
    assert.throws(() => q.check(request), /lease count quota exceeded/);
    await q.set({ ...quota, max_leases: 1 });
    held.release();
    q.check(request).release();
  });
});
