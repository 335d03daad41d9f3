import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { exerciseStorage } from './contract.js';
import Database from 'better-sqlite3';
import { CachedStorage, InmemStorage, SqliteStorage } from './index.js';

describe('InmemStorage', () => exerciseStorage(async () => new InmemStorage()));

describe('SqliteStorage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-sqlite-'));
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  exerciseStorage(async () => new SqliteStorage({ path: join(dir, `db-${n++}.sqlite`) }));

  it('converts a file written with the older WITHOUT ROWID table and keeps every entry', async () => {
    const path = join(dir, 'old-layout.sqlite');
    const old = new Database(path);
    old.exec('CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    const put = old.prepare('INSERT INTO entries (key, value) VALUES (?, ?)');
    for (let i = 0; i < 500; i++) put.run(`k/${String(i).padStart(3, '0')}`, Buffer.from(`v${i}`));
    old.close();
    const s = new SqliteStorage({ path });
    assert.equal(Buffer.from((await s.get('k/123'))!).toString(), 'v123');
    assert.equal((await s.list('k/')).length, 500);
    await s.put('k/new', Buffer.from('x'));
    await s.close();
    const reopened = new Database(path, { readonly: true });
    const sql = (reopened.prepare("SELECT sql FROM sqlite_master WHERE name = 'entries'").get() as { sql: string }).sql;
    reopened.close();
    assert.doesNotMatch(sql, /WITHOUT ROWID/);
    const again = new SqliteStorage({ path });
    assert.equal((await again.list('k/')).length, 501);
    await again.close();
  });
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

