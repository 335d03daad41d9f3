import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { exerciseStorage } from './contract.js';
import { InmemStorage, SqliteStorage } from './index.js';

describe('InmemStorage', () => exerciseStorage(async () => new InmemStorage()));

describe('SqliteStorage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-sqlite-'));
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  exerciseStorage(async () => new SqliteStorage({ path: join(dir, `db-${n++}.sqlite`) }));
});
