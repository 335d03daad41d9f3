import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruMap } from './lru.js';

describe('LruMap', () => {
  it('holds at most max entries and forgets an unused one before a used one', () => {
    const m = new LruMap<string, number>(3);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    assert.equal(m.get('a'), 1); // a is used, b and c are not
    m.set('d', 4);
    assert.equal(m.size, 3);
    assert.equal(m.get('b'), undefined, 'the oldest unused entry goes');
    assert.equal(m.get('a'), 1);
    assert.equal(m.get('d'), 4);
  });

  it('evicts even when every entry has been used, and keeps nothing with max 0', () => {
    const m = new LruMap<number, number>(2);
    m.set(1, 1);
    m.set(2, 2);
    m.get(1);
    m.get(2);
    m.set(3, 3);
    assert.equal(m.size, 2);
    assert.equal(m.get(3), 3);
    const none = new LruMap<number, number>(0);
    none.set(1, 1);
    assert.equal(none.get(1), undefined);
  });

  it('updates in place, and deletes', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('a', 2);
    assert.equal(m.get('a'), 2);
    assert.equal(m.size, 1);
    m.delete('a');
    assert.equal(m.get('a'), undefined);
  });

  it('keeps the total weight within its budget, and refuses an entry heavier than the budget', () => {
    const m = new LruMap<string, string>({ maxEntries: 100, maxWeight: 10, weigh: (_k, v) => v.length });
    m.set('a', 'xxxx');
    m.set('b', 'xxxx');
    assert.equal(m.weight, 8);
    m.get('a');
    m.set('c', 'xxxx'); // 12 > 10: b, unused, goes
    assert.deepEqual([m.get('a'), m.get('b'), m.get('c')], ['xxxx', undefined, 'xxxx']);
    assert.equal(m.weight, 8);
    m.set('a', 'x'); // replacing reweighs
    assert.equal(m.weight, 5);
    m.set('c', 'x'.repeat(11));
    assert.equal(m.get('c'), undefined, 'too heavy to keep, and the stale value is gone too');
    assert.equal(m.weight, 1);
    m.delete('a');
    assert.equal(m.weight, 0);
  });
});
