import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StorageBackend } from './storage.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

/** The behaviour every storage backend owes the barrier; run it against each implementation. */
export function exerciseStorage(make: () => Promise<StorageBackend>): void {
  it('returns null for a key never written', async () => {
    const s = await make();
    assert.equal(await s.get('missing'), null);
    await s.close();
  });

  it('reads back what was put, and overwrites', async () => {
    const s = await make();
    await s.put('a/b', bytes('one'));
    assert.equal(text(await s.get('a/b')), 'one');
    await s.put('a/b', bytes('two'));
    assert.equal(text(await s.get('a/b')), 'two');
    await s.close();
  });

  it('deletes, and deleting an absent key is not an error', async () => {
    const s = await make();
    await s.put('k', bytes('v'));
    await s.delete('k');
    await s.delete('k');
    assert.equal(await s.get('k'), null);
    await s.close();
  });

  it('lists immediate children with folders marked by a trailing slash', async () => {
    const s = await make();
    for (const k of ['p/a', 'p/b/c', 'p/b/d', 'p/e/f/g', 'q/x', 'pz']) await s.put(k, bytes('1'));
    assert.deepEqual(await s.list('p/'), ['a', 'b/', 'e/']);
    assert.deepEqual(await s.list('p/b/'), ['c', 'd']);
    assert.deepEqual(await s.list(''), ['p/', 'pz', 'q/']);
    assert.deepEqual(await s.list('nothing/'), []);
    await s.close();
  });

  it('lists a folder of many keys once, among leaves that sort around it', async () => {
    const s = await make();
    await s.transaction(Array.from({ length: 500 }, (_, i) => ({ op: 'put' as const, key: `p/a/${i}/x`, value: bytes('1') })));
    for (const k of ['p/a', 'p/a-b', 'p/a.c', 'p/a0', 'p/b/c', 'p/z']) await s.put(k, bytes('1'));
    assert.deepEqual(await s.list('p/'), ['a', 'a-b', 'a.c', 'a/', 'a0', 'b/', 'z']);
    assert.equal((await s.list('p/a/')).length, 500);
    await s.close();
  });

  it('applies a transaction entirely', async () => {
    const s = await make();
    await s.put('gone', bytes('x'));
    await s.transaction([
      { op: 'put', key: 't/1', value: bytes('1') },
      { op: 'put', key: 't/2', value: bytes('2') },
      { op: 'delete', key: 'gone' },
    ]);
    assert.deepEqual(await s.list('t/'), ['1', '2']);
    assert.equal(await s.get('gone'), null);
    await s.close();
  });

  it('keeps concurrent writes to different keys', async () => {
    const s = await make();
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.put(`c/${i}`, bytes(String(i)))));
    for (let i = 0; i < 200; i += 37) assert.equal(text(await s.get(`c/${i}`)), String(i));
    assert.equal((await s.list('c/')).length, 200);
    await s.close();
  });

  it('grants the HA lock to one holder at a time and reports the leader', async () => {
    const s = await make();
    const a = s.lock('core/lock', 'node-a');
    const b = s.lock('core/lock', 'node-b');
    await a.acquire();
    assert.equal(await s.leader('core/lock'), 'node-a');
    let bHeld = false;
    const bAcquired = b.acquire().then(() => (bHeld = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(bHeld, false);
    await a.release();
    await bAcquired;
    assert.equal(await s.leader('core/lock'), 'node-b');
    await b.release();
    assert.equal(await s.leader('core/lock'), null);
    await s.close();
  });

  it('takes a snapshot of every entry at one moment, in key order, while writes go on', async () => {
    const s = await make();
    for (let i = 0; i < 50; i++) await s.put(`snap/${String(i).padStart(3, '0')}`, bytes(`v${i}`));
    await s.put('a', bytes('first'));
    const seen: [string, string][] = [];
    let wrote = false;
    for await (const [k, v] of s.snapshot()) {
      seen.push([k, text(v)!]);
      if (!wrote) {
        // Written after the snapshot began: not in it, and no harm to it.
        await s.put('snap/999', bytes('late'));
        await s.put('a', bytes('changed'));
        wrote = true;
      }
    }
    assert.equal(seen.length, 51);
    assert.deepEqual(seen[0], ['a', 'first']);
    assert.deepEqual(seen.map(([k]) => k), [...seen.map(([k]) => k)].sort());
    assert.ok(!seen.some(([k]) => k === 'snap/999'));
    assert.equal(text(await s.get('a')), 'changed');
    await s.close();
  });

  it('replaces every entry at once: what was not in the new content is gone', async () => {
    const s = await make();
    await s.put('old/x', bytes('1'));
    await s.put('keep', bytes('before'));
    await s.replaceAll([
      ['keep', bytes('after')],
      ['new/y', bytes('2')],
    ]);
    assert.equal(await s.get('old/x'), null);
    assert.equal(text(await s.get('keep')), 'after');
    assert.deepEqual(await s.list(''), ['keep', 'new/']);
    await s.replaceAll([]);
    assert.deepEqual(await s.list(''), []);
    await s.close();
  });
}
