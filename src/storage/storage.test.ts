import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { exerciseStorage } from './contract.js';
import { CachedStorage, InmemStorage, SqliteStorage } from './index.js';

describe('InmemStorage', () => exerciseStorage(async () => new InmemStorage()));

describe('SqliteStorage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-sqlite-'));
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  exerciseStorage(async () => new SqliteStorage({ path: join(dir, `db-${n++}.sqlite`) }));
});

describe('CachedStorage over SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-cached-'));
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  exerciseStorage(async () => new CachedStorage(new SqliteStorage({ path: join(dir, `db-${n++}.sqlite`) }), 3));
});

describe('CachedStorage under a byte budget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-cached-bytes-'));
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  exerciseStorage(async () => new CachedStorage(new SqliteStorage({ path: join(dir, `db-${n++}.sqlite`) }), 1000, 2048));

  it('holds no more bytes than its budget, however large the values, and still serves them', async () => {
    const s = new CachedStorage(new SqliteStorage({ path: join(dir, 'budget.sqlite') }), 1000, 64 * 1024);
    const big = new Uint8Array(10 * 1024).fill(7);
    for (let i = 0; i < 20; i++) await s.put(`k/${i}`, big);
    for (let i = 0; i < 20; i++) assert.equal((await s.get(`k/${i}`))?.byteLength, big.byteLength);
    assert.ok(s.bytes <= 64 * 1024, `cache holds ${s.bytes} bytes`);
    assert.ok(s.bytes > 0);
    await s.put('huge', new Uint8Array(100 * 1024));
    assert.equal((await s.get('huge'))?.byteLength, 100 * 1024, 'a value above the budget is read from the backend');
    await s.close();
  });

  it('passes entries under an uncached prefix through without keeping them', async () => {
    const inner = new InmemStorage();
    const s = new CachedStorage(inner, 1000, 1024 * 1024, ['sys/expire/']);
    await s.put('sys/expire/id/a', new Uint8Array(100));
    await s.transaction([{ op: 'put', key: 'sys/expire/due/b', value: new Uint8Array(100) }]);
    await s.get('sys/expire/id/a');
    assert.equal(s.bytes, 0, 'nothing under the prefix is cached');
    await inner.delete('sys/expire/id/a');
    assert.equal(await s.get('sys/expire/id/a'), null, 'reads go to the backend');
    await s.put('secret/x', new Uint8Array(100));
    assert.ok(s.bytes > 0, 'other keys are cached as before');
  });
});

