import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InmemStorage } from '../storage/index.js';
import { FaultyStorage } from '../storage/testing.js';
import { newTestCore } from './testing.js';

/**
 * A write that spans several keys is one transaction: a storage that fails at any point of it
 * leaves either all of it or none. The stores are checked through the keys the physical storage
 * holds (keys are not encrypted; values are).
 */
describe('multi-key writes are atomic', () => {
  it('leaves no half-written token, whichever write fails', async () => {
    for (let budget = 0; budget < 4; budget++) {
      const physical = new InmemStorage();
      const storage = new FaultyStorage(physical);
      const t = await newTestCore({ storage });
      const parent = (await t.request('update', 'auth/token/create', {}))!.auth!.clientToken;
      const before = await tokenKeys(physical);
      storage.failWritesAfter(budget);
      const created = await t.request('update', 'auth/token/create', {}, parent).then(
        (r) => r!.auth!,
        () => null,
      );
      storage.heal();
      const after = await tokenKeys(physical);
      if (created) {
        assert.equal(after.ids.length, before.ids.length + 1, `budget ${budget}`);
        assert.equal((await t.request('update', 'auth/token/lookup-accessor', { accessor: created.accessor }))!.data!['accessor'], created.accessor);
      } else {
        assert.deepEqual(after, before, `budget ${budget}: a failed creation leaves nothing behind`);
      }
      assert.equal(after.ids.length, after.accessors.length, 'every token has its accessor and no accessor is left without one');
      for (const child of after.children) assert.ok(after.ids.includes(child), 'every parent index entry names a stored token');
    }
  });

  it('leaves no KV version without its metadata, whichever write fails', async () => {
    for (let budget = 0; budget < 3; budget++) {
      const physical = new InmemStorage();
      const storage = new FaultyStorage(physical);
      const t = await newTestCore({ storage });
      await t.request('update', 'secret/metadata/app', { max_versions: 2 });
      for (let i = 1; i <= 2; i++) await t.request('update', 'secret/data/app', { data: { v: i } });
      storage.failWritesAfter(budget);
      // A third version prunes the first: version, metadata and pruning in one write.
      const wrote = await t.request('update', 'secret/data/app', { data: { v: 3 } }).then(
        () => true,
        () => false,
      );
      storage.heal();
      const meta = (await t.request('read', 'secret/metadata/app'))!.data!;
      const listed = Object.keys(meta['versions'] as Record<string, unknown>).sort();
      const stored = await versionKeys(physical, 'app');
      // The current version lives inside the metadata; every other version listed has its entry.
      const current = String(meta['current_version']);
      assert.deepEqual(stored, listed.filter((n) => n !== current), `budget ${budget}: the versions stored are exactly the older versions the metadata lists`);
      assert.deepEqual(listed, wrote ? ['2', '3'] : ['1', '2']);
      assert.deepEqual((await t.request('read', 'secret/data/app', { version: listed[0] }))!.data!['data'], { v: Number(listed[0]) });
      assert.equal(meta['current_version'], wrote ? 3 : 2);
    }
  });
});

async function tokenKeys(s: InmemStorage): Promise<{ ids: string[]; accessors: string[]; children: string[] }> {
  const children: string[] = [];
  for (const parent of await s.list('sys/token/parent/')) {
    for (const child of await s.list(`sys/token/parent/${parent}`)) children.push(child);
  }
  return { ids: await s.list('sys/token/id/'), accessors: await s.list('sys/token/accessor/'), children: children.sort() };
}

/** The version numbers stored for key (kept under the key's own path: versions/<key>/@<n>). */
async function versionKeys(s: InmemStorage, key: string): Promise<string[]> {
  for (const mount of await s.list('logical/')) {
    const versions = await s.list(`logical/${mount}versions/${key}/`);
    if (versions.length) return versions.map((v) => v.replace(/^@/, '')).sort();
  }
  return [];
}
