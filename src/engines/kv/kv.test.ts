import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { newTestCore, type TestCore } from '../../core/testing.js';
import { MemoryView } from '../../logical/testing.js';
import { KeyedMutex, ManualClock } from '../../util/index.js';
import { putVersion, resolveVersion } from './kv-v2-data.js';

type Data = Record<string, unknown>;
const dataOf = (r: { data?: Data | null } | null) => (r?.data ?? {}) as Data;

async function kv2(): Promise<TestCore & { clock: ManualClock }> {
  const clock = new ManualClock();
  return Object.assign(await newTestCore({ clock }), { clock });
}

describe('KV v2 data', () => {
  it('writes versions and reads the latest or a given one', async () => {
    const t = await kv2();
    const w1 = await t.request('update', 'secret/data/app', { data: { a: 1 } });
    assert.equal(dataOf(w1)['version'], 1);
    await t.request('update', 'secret/data/app', { data: { a: 2 } });
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/app'))['data'], { a: 2 });
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/app', { version: '1' }))['data'], { a: 1 });
    assert.equal(await t.request('read', 'secret/data/app', { version: '9' }), null);
    assert.equal(await t.request('read', 'secret/data/missing'), null);
  });

  it('enforces check-and-set: cas=0 only creates, cas=N only updates version N', async () => {
    const t = await kv2();
    await t.request('update', 'secret/data/c', { data: { v: 1 }, options: { cas: 0 } });
    await assert.rejects(t.request('update', 'secret/data/c', { data: { v: 2 }, options: { cas: 0 } }), { message: 'check-and-set parameter did not match the current version' });
    await t.request('update', 'secret/data/c', { data: { v: 2 }, options: { cas: 1 } });
    // No version is below zero: a negative cas is a mismatch, in Vault's words.
    for (const cas of [-1, '-5']) {
      await assert.rejects(t.request('update', 'secret/data/c', { data: { v: 9 }, options: { cas } }), { message: 'check-and-set parameter did not match the current version' });
    }
    await t.request('update', 'secret/metadata/c', { cas_required: true });
    await assert.rejects(t.request('update', 'secret/data/c', { data: { v: 3 } }), { message: 'check-and-set parameter required for this call' });
  });

  it('honours cas_required from the mount config', async () => {
    const t = await kv2();
    await t.request('update', 'secret/config', { cas_required: true, max_versions: 3 });
    assert.deepEqual(dataOf(await t.request('read', 'secret/config')), { cas_required: true, delete_version_after: '0s', max_versions: 3 });
    await assert.rejects(t.request('update', 'secret/data/x', { data: { v: 1 } }), { code: 'invalid_request' });
  });

  it('merge-patches the latest version and refuses to patch what is missing or deleted', async () => {
    const t = await kv2();
    await assert.rejects(t.request('patch', 'secret/data/p', { data: { a: 1 } }), { code: 'not_found' });
    await t.request('update', 'secret/data/p', { data: { a: 1, b: { c: 2, d: 3 }, e: 4 } });
    const res = await t.request('patch', 'secret/data/p', { data: { a: 9, b: { c: null }, e: null } });
    assert.equal(dataOf(res)['version'], 2);
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/p'))['data'], { a: 9, b: { d: 3 } });
    await t.request('delete', 'secret/data/p');
    await assert.rejects(t.request('patch', 'secret/data/p', { data: { a: 1 } }), { code: 'not_found' });
  });

  it('soft-deletes, undeletes and destroys versions; a deleted read is 404 with metadata', async () => {
    const t = await kv2();
    for (let i = 1; i <= 3; i++) await t.request('update', 'secret/data/d', { data: { i } });
    await t.request('delete', 'secret/data/d');
    const gone = await t.request('read', 'secret/data/d');
    assert.equal(gone?.httpStatus, 404);
    assert.equal(dataOf(gone)['data'], null);
    assert.notEqual((dataOf(gone)['metadata'] as Data)['deletion_time'], '');
    await t.request('update', 'secret/undelete/d', { versions: [3] });
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/d'))['data'], { i: 3 });
    await t.request('update', 'secret/delete/d', { versions: [1, 2] });
    await t.request('update', 'secret/destroy/d', { versions: [2] });
    await t.request('update', 'secret/undelete/d', { versions: [1, 2] });
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/d', { version: '1' }))['data'], { i: 1 });
    const destroyed = await t.request('read', 'secret/data/d', { version: '2' });
    assert.equal(destroyed?.httpStatus, 404);
    assert.equal((dataOf(destroyed)['metadata'] as Data)['destroyed'], true);
    await assert.rejects(t.request('update', 'secret/destroy/d', { versions: [] }), { message: 'no version number provided' });
  });

  it('serves nothing of a destroyed current version, and never shows its internal copy', async () => {
    const t = await kv2();
    await t.request('update', 'secret/data/cur', { data: { v: 'one' } });
    await t.request('update', 'secret/data/cur', { data: { v: 'two' } });
    assert.equal('latest' in dataOf(await t.request('read', 'secret/metadata/cur')), false);
    await t.request('update', 'secret/destroy/cur', { versions: [2] });
    const gone = await t.request('read', 'secret/data/cur');
    assert.equal(gone?.httpStatus, 404);
    assert.equal(dataOf(gone)['data'], null);
    await t.request('update', 'secret/undelete/cur', { versions: [2] });
    assert.equal((await t.request('read', 'secret/data/cur'))?.httpStatus, 404);
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/cur', { version: '1' }))['data'], { v: 'one' });
    await t.request('update', 'secret/data/cur', { data: { v: 'three' } });
    assert.deepEqual(dataOf(await t.request('read', 'secret/data/cur'))['data'], { v: 'three' });
  });

  it('keeps only max_versions versions and advances oldest_version', async () => {
    const t = await kv2();
    await t.request('update', 'secret/metadata/m', { max_versions: 2 });
    for (let i = 1; i <= 4; i++) await t.request('update', 'secret/data/m', { data: { i } });
    const meta = dataOf(await t.request('read', 'secret/metadata/m'));
    assert.deepEqual(Object.keys(meta['versions'] as Data), ['3', '4']);
    assert.equal(meta['oldest_version'], 3);
    assert.equal(meta['current_version'], 4);
    assert.equal(await t.request('read', 'secret/data/m', { version: '1' }), null);
  });

  it('applies delete_version_after as time passes', async () => {
    const t = await kv2();
    await t.request('update', 'secret/metadata/e', { delete_version_after: '1h' });
    await t.request('update', 'secret/data/e', { data: { v: 1 } });
    assert.equal(dataOf(await t.request('read', 'secret/metadata/e'))['delete_version_after'], '1h0m0s');
    assert.equal((await t.request('read', 'secret/data/e'))?.httpStatus, undefined);
    t.clock.advance(3601);
    assert.equal((await t.request('read', 'secret/data/e'))?.httpStatus, 404);
  });

  it('stores custom_metadata within Vault\'s limits, patches it, and rejects oversize', async () => {
    const t = await kv2();
    await t.request('update', 'secret/metadata/cm', { custom_metadata: { owner: 'team-a', tier: '1' } });
    await t.request('patch', 'secret/metadata/cm', { custom_metadata: { tier: null, env: 'prod' } });
    assert.deepEqual(dataOf(await t.request('read', 'secret/metadata/cm'))['custom_metadata'], { owner: 'team-a', env: 'prod' });
    await assert.rejects(t.request('update', 'secret/metadata/cm', { custom_metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'secret/metadata/cm', { custom_metadata: { k: 'x'.repeat(513) } }), { code: 'invalid_request' });
  });

  it('lists keys and folders under metadata/, and deletes a key entirely', async () => {
    const t = await kv2();
    for (const k of ['a', 'dir/b', 'dir/c', 'dir/sub/d']) await t.request('update', `secret/data/${k}`, { data: { v: 1 } });
    assert.deepEqual(dataOf(await t.request('list', 'secret/metadata/'))['keys'], ['a', 'dir/']);
    assert.deepEqual(dataOf(await t.request('list', 'secret/metadata/dir/'))['keys'], ['b', 'c', 'sub/']);
    await t.request('delete', 'secret/metadata/dir/b');
    assert.deepEqual(dataOf(await t.request('list', 'secret/metadata/dir/'))['keys'], ['c', 'sub/']);
    assert.equal(await t.request('read', 'secret/metadata/dir/b'), null);
  });

  it('answers subkeys with the structure and no values, to a depth', async () => {
    const t = await kv2();
    await t.request('update', 'secret/data/s', { data: { a: 1, b: { c: 2, d: { e: 3 } } } });
    assert.deepEqual(dataOf(await t.request('read', 'secret/subkeys/s'))['subkeys'], { a: null, b: { c: null, d: { e: null } } });
    assert.deepEqual(dataOf(await t.request('read', 'secret/subkeys/s', { depth: '1' }))['subkeys'], { a: null, b: null });
  });

  it('refuses a write without data, and keys that are empty or end in "/"', async () => {
    const t = await kv2();
    await assert.rejects(t.request('update', 'secret/data/x', { nodata: 1 }), { message: 'no data provided' });
    await assert.rejects(t.request('update', 'secret/data/x/', { data: { a: 1 } }), { code: 'invalid_request' });
  });
});

describe('KV v1 and the upgrade to v2', () => {
  it('stores unversioned values, then keeps them as version 1 after enable-versioning', async () => {
    const t = await kv2();
    await t.request('update', 'sys/mounts/kv1', { type: 'kv' });
    await t.request('update', 'kv1/app/db', { password: 'pw' });
    await t.request('update', 'kv1/top', { v: 'x' });
    assert.deepEqual(dataOf(await t.request('read', 'kv1/app/db')), { password: 'pw' });
    assert.deepEqual(dataOf(await t.request('list', 'kv1/')).keys, ['app/', 'top']);
    const tuned = await t.request('update', 'sys/mounts/kv1/tune', { options: { version: '2' } });
    assert.match(String(tuned?.warnings?.[0]), /Upgrading mount from version 1 to version 2/);
    const v = dataOf(await t.request('read', 'kv1/data/app/db'));
    assert.deepEqual(v['data'], { password: 'pw' });
    assert.equal((v['metadata'] as Data)['version'], 1);
    assert.deepEqual(dataOf(await t.request('list', 'kv1/metadata/')).keys, ['app/', 'top']);
    await assert.rejects(t.request('update', 'sys/mounts/kv1/tune', { options: { version: '1' } }), { code: 'invalid_request' });
  });
});

describe('KV v2 version layout', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const deps = () => ({ mutex: new KeyedMutex(), now: () => Date.UTC(2026, 0, 1) });

  it('keeps the latest version in the metadata and the older ones under the key\'s own path', async () => {
    const view = new MemoryView();
    await putVersion(deps(), view, 'team/app', undefined, async () => ({ a: 1 }));
    assert.deepEqual([...view.entries.keys()], ['metadata/team/app'], 'a new key is one stored value');
    await putVersion(deps(), view, 'team/app', undefined, async () => ({ a: 2 }));
    assert.deepEqual([...view.entries.keys()].filter((k) => k.startsWith('versions/')).sort(), ['versions/team/app/@1']);
    assert.deepEqual((await resolveVersion(view, 'team/app', 1, 0))?.data, { a: 1 });
    assert.deepEqual((await resolveVersion(view, 'team/app', 2, 0))?.data, { a: 2 });
  });

  it('keeps reading and writing a key stored by an older version under its hash', async () => {
    const view = new MemoryView();
    const hashed = `versions/${createHash('sha256').update('old').digest('hex')}`;
    const created = '2025-01-01T00:00:00.000000000Z';
    await view.put('metadata/old', enc({ versions: { '1': { created_time: created, deletion_time: '', destroyed: false } }, current_version: 1, oldest_version: 0, max_versions: 0, cas_required: false, delete_version_after: 0, custom_metadata: null, created_time: created, updated_time: created }));
    await view.put(`${hashed}/1`, enc({ data: { v: 'one' } }));
    assert.deepEqual((await resolveVersion(view, 'old', 1, 0))?.data, { v: 'one' });
    await putVersion(deps(), view, 'old', undefined, async () => ({ v: 'two' }));
    assert.deepEqual((await resolveVersion(view, 'old', 2, 0))?.data, { v: 'two' });
    await putVersion(deps(), view, 'old', undefined, async () => ({ v: 'three' }));
    assert.ok(view.entries.has(`${hashed}/2`), 'its superseded versions follow its layout');
    assert.deepEqual((await resolveVersion(view, 'old', 1, 0))?.data, { v: 'one' });
    assert.deepEqual((await resolveVersion(view, 'old', 2, 0))?.data, { v: 'two' });
    assert.ok(![...view.entries.keys()].some((k) => k.startsWith('versions/old/')));
  });
});
