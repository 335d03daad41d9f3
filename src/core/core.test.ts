import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InmemStorage } from '../storage/index.js';
import { FaultyStorage } from '../storage/testing.js';
import { ManualClock } from '../util/index.js';
import { newTestCore } from './testing.js';

describe('Core lifecycle', () => {
  it('initialises with 5 shares / threshold 3 and unseals with any 3', async () => {
    const storage = new InmemStorage();
    const t = await newTestCore({ storage, shares: 5, threshold: 3 });
    assert.equal(t.keys.length, 5);
    assert.equal(t.keys[0]!.length, 33);
    await t.request('update', 'secret/data/app', { data: { password: 'pw1' } });
    await t.core.seal();
    assert.equal((await t.core.status()).sealed, true);
    for (const k of [t.keys[4]!, t.keys[1]!]) assert.equal((await t.core.unseal(k)).sealed, true);
    assert.equal((await t.core.unseal(t.keys[2]!)).sealed, false);
    const res = await t.request('read', 'secret/data/app');
    assert.deepEqual((res?.data as { data: unknown }).data, { password: 'pw1' });
  });

  it('does not advance progress on a duplicate share, and resets after a failed attempt', async () => {
    const t = await newTestCore({ shares: 5, threshold: 3 });
    await t.core.seal();
    assert.equal((await t.core.unseal(t.keys[0]!)).progress, 1);
    assert.equal((await t.core.unseal(t.keys[0]!)).progress, 1);
    const wrong = Uint8Array.from(t.keys[1]!);
    wrong[0]! ^= 0xff;
    assert.equal((await t.core.unseal(wrong)).progress, 2);
    await assert.rejects(t.core.unseal(t.keys[2]!), { code: 'invalid_request' });
    const s = await t.core.status();
    assert.equal(s.sealed, true);
    assert.equal(s.progress, 0);
  });

  it('refuses malformed shares with a 400 and never unseals', async () => {
    const t = await newTestCore({ shares: 5, threshold: 3 });
    await t.core.seal();
    await assert.rejects(t.core.unseal(new Uint8Array(10)), (e: { httpStatus: number }) => e.httpStatus === 400);
    assert.equal((await t.core.status()).progress, 0);
  });

  it('recovers from an initialisation interrupted part-way: not initialised, and init works again', async () => {
    // Fails the root token's write: the moment an interrupted initialisation stops.
    const flaky = new FaultyStorage(new InmemStorage());
    flaky.failWritesTo((k) => k.startsWith('sys/token/id/'));
    await assert.rejects(newTestCore({ storage: flaky, shares: 5, threshold: 3 }));
    flaky.heal();
    const t = await newTestCore({ storage: flaky, shares: 5, threshold: 3 });
    assert.equal((await t.core.status()).initialized, true);
    await t.request('update', 'secret/data/after', { data: { ok: true } });
    assert.deepEqual((await t.request('read', 'secret/data/after'))?.data?.['data'], { ok: true });
  });

  it('answers 503 "Vault is sealed" while sealed', async () => {
    const t = await newTestCore();
    await t.core.seal();
    await assert.rejects(t.request('read', 'secret/data/x'), { code: 'sealed', message: 'Vault is sealed' });
  });
});

describe('Core tokens and policies', () => {
  it('gives a limited token exactly its policy and the same 403 for everything else', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/app', { policy: 'path "secret/data/app" { capabilities = ["read"] }' });
    await t.request('update', 'secret/data/app', { data: { k: 'v' } });
    await t.request('update', 'secret/data/other', { data: { k: 'v' } });
    const created = await t.request('update', 'auth/token/create', { policies: ['app'] });
    const token = created!.auth!.clientToken;
    assert.match(token, /^hvs\.[A-Za-z0-9]{95}$/);
    const ok = await t.request('read', 'secret/data/app', {}, token);
    assert.deepEqual((ok?.data as { data: unknown }).data, { k: 'v' });
    for (const [path, tok] of [['secret/data/other', token], ['nope/x', token], ['secret/data/app', 'hvs.bogus'], ['secret/data/app', '']] as const) {
      await assert.rejects(t.request('read', path, {}, tok), { code: 'permission_denied', message: 'permission denied' });
    }
  });

  it('refuses a token after revocation even though it was just used (and its hash remembered)', async () => {
    const t = await newTestCore();
    const token = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    for (let i = 0; i < 3; i++) await t.request('read', 'auth/token/lookup-self', {}, token);
    await t.request('update', 'auth/token/revoke', { token });
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, token), { code: 'permission_denied' });
    await t.core.seal();
    await t.core.unseal(t.keys[0]!);
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, token), { code: 'permission_denied' });
  });

  it('revokes children with their parent, but not orphans', async () => {
    const t = await newTestCore();
    const parent = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    const child = (await t.request('update', 'auth/token/create', {}, parent))!.auth!.clientToken;
    const orphan = (await t.request('update', 'auth/token/create-orphan', {}, parent))!.auth!.clientToken;
    await t.request('update', 'auth/token/revoke', { token: parent });
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, child), { code: 'permission_denied' });
    const still = await t.request('read', 'auth/token/lookup-self', {}, orphan);
    assert.equal(still?.data?.['orphan'], true);
  });

  it('stops accepting a token at its expiry and sweeps it away', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const token = (await t.request('update', 'auth/token/create', { ttl: '1m' }))!.auth!.clientToken;
    const lookup = await t.request('read', 'auth/token/lookup-self', {}, token);
    assert.equal(lookup?.data?.['ttl'], 60);
    clock.advance(59);
    await t.request('read', 'auth/token/lookup-self', {}, token);
    clock.advance(1);
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, token), { code: 'permission_denied' });
  });

  it('lets a num_uses=1 token through exactly once under 50 parallel requests', async () => {
    const t = await newTestCore();
    const token = (await t.request('update', 'auth/token/create', { num_uses: 1 }))!.auth!.clientToken;
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => t.request('read', 'auth/token/lookup-self', {}, token)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('destroys a token\'s cubbyhole with the token, and hides it from other tokens', async () => {
    const t = await newTestCore();
    const a = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    const b = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
    await t.request('update', 'cubbyhole/note', { v: 'a-secret' }, a);
    assert.equal((await t.request('read', 'cubbyhole/note', {}, a))?.data?.['v'], 'a-secret');
    assert.equal(await t.request('read', 'cubbyhole/note', {}, b), null);
    await t.request('update', 'auth/token/revoke-self', {}, a);
    const c = await t.request('update', 'auth/token/create', {});
    assert.equal(await t.request('read', 'cubbyhole/note', {}, c!.auth!.clientToken), null);
  });
});
