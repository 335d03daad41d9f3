import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
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
