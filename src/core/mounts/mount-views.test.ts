import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryView } from '../../logical/testing.js';
import { InmemStorage } from '../../storage/index.js';
import { newTestCore } from '../testing.js';
import { migrateTokenRoles } from '../tokens/migrate-roles.js';
import { storagePrefix, type MountTableName } from './mount-entry.js';

describe('mount storage views', () => {
  it('gives every mount, built-in ones included, a view of its own apart from the core\'s stores', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/mounts/other', { type: 'kv' });
    const prefixes: string[] = [];
    for (const table of ['mounts', 'auth'] as MountTableName[]) {
      const listed = (await t.request('read', table === 'mounts' ? 'sys/mounts' : 'sys/auth'))!.data as Record<string, { uuid: string }>;
      for (const m of Object.values(listed)) prefixes.push(storagePrefix({ table, uuid: m.uuid }));
    }
    assert.equal(prefixes.length, 6); // sys, cubbyhole, identity, secret, other, token
    for (const p of prefixes) {
      for (const core of ['sys/', 'sys/policy/', 'sys/token/', 'sys/identity/', 'core/']) assert.ok(!core.startsWith(p) && !p.startsWith(core), `${p} overlaps ${core}`);
      for (const q of prefixes) if (q !== p) assert.ok(!q.startsWith(p), `${p} overlaps ${q}`);
    }
  });

  it('keeps token roles in the token mount, moving those an older version kept in sys/token/roles/', async () => {
    const storage = new InmemStorage();
    const t = await newTestCore({ storage });
    await t.request('update', 'auth/token/roles/ci', { allowed_policies: ['ci'] });
    assert.deepEqual(await storage.list('sys/token/roles/'), [], 'a new role is not in the token store');
    assert.deepEqual((await t.request('list', 'auth/token/roles'))!.data!['keys'], ['ci']);
  });

  it('moves legacy token roles, and finishes a move that was interrupted', async () => {
    const old = new MemoryView();
    const mount = new MemoryView();
    await old.put('roles/a', new TextEncoder().encode('{"name":"a"}'));
    await old.put('roles/b', new TextEncoder().encode('{"name":"b"}'));
    await mount.put('roles/b', new TextEncoder().encode('{"name":"b"}')); // copied before a crash
    await migrateTokenRoles(old, mount);
    assert.deepEqual(await old.list('roles/'), []);
    assert.deepEqual(await mount.list('roles/'), ['a', 'b']);
    assert.equal(new TextDecoder().decode((await mount.get('roles/a'))!), '{"name":"a"}');
  });
});
