import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { termOf } from '../barrier/aead.js';
import { listRecursive } from '../logical/index.js';
import { InmemStorage } from '../storage/index.js';
import { ManualClock } from '../util/index.js';
import { newTestCore } from './testing.js';

describe('barrier key rotation', () => {
  it('rotates to a new term: old data still reads, new writes use the new term, and it lasts across unseal', async () => {
    const storage = new InmemStorage();
    const t = await newTestCore({ storage });
    await t.request('update', 'secret/data/old', { data: { v: 'before' } });
    const before = (await t.request('read', 'sys/key-status'))!.data!;
    assert.equal(before['term'], 1);
    assert.ok((before['encryptions'] as number) > 0, 'the writes so far are counted');
    assert.equal(await t.request('update', 'sys/rotate'), null);
    const after = (await t.request('read', 'sys/key-status'))!.data!;
    assert.equal(after['term'], 2);
    assert.ok(Date.parse(String(after['install_time'])) >= Date.parse(String(before['install_time'])));
    await t.request('update', 'secret/data/new', { data: { v: 'after' } });
    const terms = new Set<number>();
    for (const key of await listRecursive(storage, '')) {
      const blob = await storage.get(key);
      if (blob && key !== 'core/keyring' && !key.startsWith('core/seal') && key !== 'core/root-key') {
        try {
          terms.add(termOf(blob));
        } catch {
          // not a barrier value
        }
      }
    }
    assert.deepEqual([...terms].sort(), [1, 2], 'values of both terms are stored');

    await t.core.seal();
    await t.core.unseal(t.keys[0]!);
    assert.equal(((await t.request('read', 'secret/data/old'))!.data!['data'] as Record<string, string>)['v'], 'before');
    assert.equal(((await t.request('read', 'secret/data/new'))!.data!['data'] as Record<string, string>)['v'], 'after');
    assert.equal((await t.request('read', 'sys/key-status'))!.data!['term'], 2);
    const token = (await t.request('update', 'auth/token/create', { policies: ['default'] }))!.auth!.clientToken;
    await assert.rejects(t.request('update', 'sys/rotate', {}, token), /permission denied/, 'rotate needs sudo');
  });

  it('rotates on its own once the key is as old as sys/rotate/config says', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    assert.deepEqual((await t.request('read', 'sys/rotate/config'))!.data, { max_operations: 3_865_470_566, interval: '0s', enabled: true });
    await t.request('update', 'sys/rotate/config', { interval: '48h' });
    assert.equal((await t.request('read', 'sys/rotate/config'))!.data!['interval'], '48h0m0s');
    clock.advance(47 * 3600);
    await t.core.runPeriodic();
    assert.equal((await t.request('read', 'sys/key-status'))!.data!['term'], 1);
    clock.advance(2 * 3600);
    await t.core.runPeriodic();
    assert.equal((await t.request('read', 'sys/key-status'))!.data!['term'], 2);
    await t.request('update', 'sys/rotate/config', { enabled: false });
    clock.advance(100 * 3600);
    await t.core.runPeriodic();
    assert.equal((await t.request('read', 'sys/key-status'))!.data!['term'], 2, 'not while disabled');
    await assert.rejects(t.request('update', 'sys/rotate/config', { interval: '1h' }), /at least 24h/);
    await assert.rejects(t.request('update', 'sys/rotate/config', { max_operations: 10 }), /max_operations must be between 1000000 and 3865470566/);
  });

  it('keeps counting encryptions across unseals, and saves the count with the periodic work', async () => {
    const t = await newTestCore();
    for (let i = 0; i < 20; i++) await t.request('update', `secret/data/k${i}`, { data: { i } });
    await t.core.runPeriodic();
    const counted = (await t.request('read', 'sys/key-status'))!.data!['encryptions'] as number;
    await t.core.seal();
    await t.core.unseal(t.keys[0]!);
    assert.ok(((await t.request('read', 'sys/key-status'))!.data!['encryptions'] as number) >= counted);
  });
});
