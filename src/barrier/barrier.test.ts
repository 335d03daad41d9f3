import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { InmemStorage } from '../storage/index.js';
import { Barrier, sealWithKey } from './index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

async function unsealedBarrier() {
  const physical = new InmemStorage();
  const barrier = new Barrier(physical);
  const rootKey = randomBytes(32);
  await barrier.initialize(rootKey, new Date());
  await barrier.unseal(rootKey);
  return { physical, barrier, rootKey };
}

describe('AES-GCM sealing', () => {
  it('never repeats a nonce across many values, batch refills included', async () => {
    const key = createSecretKey(randomBytes(32));
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) seen.add(Buffer.from(sealWithKey(key, 1, 'p', enc('same')).subarray(5, 17)).toString('hex'));
    assert.equal(seen.size, 3000);
  });
});

describe('Barrier', () => {
  it('stores ciphertext, never the plaintext, and reads it back', async () => {
    const { physical, barrier } = await unsealedBarrier();
    await barrier.put('logical/x/secret', enc('hunter2-plaintext'));
    const raw = Buffer.from((await physical.get('logical/x/secret'))!);
    assert.equal(raw.includes(Buffer.from('hunter2')), false);
    assert.equal(dec(await barrier.get('logical/x/secret')), 'hunter2-plaintext');
  });

  it('fails to decrypt a value copied to another path', async () => {
    const { physical, barrier } = await unsealedBarrier();
    await barrier.put('a/one', enc('value'));
    await physical.put('a/two', (await physical.get('a/one'))!);
    await assert.rejects(barrier.get('a/two'));
  });

  it('fails on a tampered ciphertext', async () => {
    const { physical, barrier } = await unsealedBarrier();
    await barrier.put('k', enc('value'));
    const raw = Buffer.from((await physical.get('k'))!);
    raw[raw.length - 20]! ^= 1;
    await physical.put('k', raw);
    await assert.rejects(barrier.get('k'));
  });

  it('refuses everything while sealed with "Vault is sealed"', async () => {
    const { barrier } = await unsealedBarrier();
    barrier.seal();
    await assert.rejects(barrier.get('k'), { code: 'sealed', message: 'Vault is sealed' });
    await assert.rejects(barrier.put('k', enc('v')), { code: 'sealed' });
  });

  it('does not unseal with the wrong root key', async () => {
    const { barrier } = await unsealedBarrier();
    barrier.seal();
    await assert.rejects(barrier.unseal(randomBytes(32)));
    assert.equal(barrier.sealed, true);
  });

  it('reads values written under an older key term after rotation', async () => {
    const { barrier, rootKey } = await unsealedBarrier();
    await barrier.put('old', enc('before'));
    assert.equal(barrier.keyStatus().encryptionsSinceUnseal, 1);
    assert.equal((await barrier.rotate(new Date())).term, 2);
    assert.deepEqual([barrier.keyStatus().term, barrier.keyStatus().encryptionsSinceUnseal], [2, 0]);
    await barrier.put('new', enc('after'));
    barrier.seal();
    await barrier.unseal(rootKey);
    assert.equal(dec(await barrier.get('old')), 'before');
    assert.equal(dec(await barrier.get('new')), 'after');
  });

  it('confines a view to its prefix', async () => {
    const { barrier } = await unsealedBarrier();
    await barrier.put('logical/other/secret', enc('theirs'));
    const view = barrier.view('logical/mine/');
    await view.put('../other/secret', enc('mine'));
    assert.equal(dec(await barrier.get('logical/other/secret')), 'theirs');
    assert.deepEqual(await view.list(''), ['../']);
    assert.deepEqual(await barrier.list('logical/'), ['mine/', 'other/']);
  });
});

describe('Barrier with a plaintext cache', () => {
  it('serves the latest write, forgets everything on seal, and never serves across paths', async () => {
    const physical = new InmemStorage();
    const barrier = new Barrier(physical, { plaintextCacheSize: 2 });
    const rootKey = randomBytes(32);
    await barrier.initialize(rootKey, new Date());
    await barrier.unseal(rootKey);
    await barrier.put('a', enc('1'));
    assert.equal(dec(await barrier.get('a')), '1');
    await barrier.put('a', enc('2'));
    assert.equal(dec(await barrier.get('a')), '2');
    await barrier.transaction([{ op: 'put', key: 'a', value: enc('3') }]);
    assert.equal(dec(await barrier.get('a')), '3');
    await barrier.delete('a');
    assert.equal(await barrier.get('a'), null);
    await barrier.put('b', enc('b'));
    await barrier.get('b');
    await physical.put('c', (await physical.get('b'))!);
    await assert.rejects(barrier.get('c'));
    barrier.seal();
    await assert.rejects(barrier.get('b'), { code: 'sealed' });
    await physical.put('b', (await physical.get('c'))!.subarray(0, 10));
    await barrier.unseal(rootKey);
    await assert.rejects(barrier.get('b'), 'after a seal, values are read (and authenticated) again');
  });
});
