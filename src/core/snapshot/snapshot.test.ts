import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InmemStorage } from '../../storage/index.js';
import { FaultyStorage } from '../../storage/testing.js';
import { ManualClock } from '../../util/index.js';
import { leasingEngine } from '../expiration/testing.js';
import { newTestCore, type TestCore } from '../testing.js';

type Body = Record<string, unknown>;
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

async function value(t: TestCore, path: string, token = t.rootToken): Promise<unknown> {
  return ((await t.request('read', `secret/data/${path}`, {}, token))?.data?.['data'] as Body | undefined)?.['v'];
}

async function snapshotOf(t: TestCore): Promise<Buffer> {
  return (await t.request('read', 'sys/storage/raft/snapshot'))!.raw as Buffer;
}

async function restore(t: TestCore, file: Uint8Array, force = false): Promise<unknown> {
  return (await t.core.handle({ operation: 'update', path: `sys/storage/raft/snapshot${force ? '-force' : ''}`, data: {}, token: t.rootToken, body: file })).response;
}

describe('snapshots', () => {
  it('restores secrets, policies, tokens, leases and mounts as they were, on a server that keeps serving', async () => {
    const t = await newTestCore({ storage: new InmemStorage(), engines: leasingEngine().registry });
    await t.request('update', 'secret/data/app', { data: { v: 'one' } });
    await t.request('update', 'sys/mounts/db', { type: 'leasing' });
    const leaseId = (await t.request('read', 'db/creds/app'))!.lease!.id;
    await t.request('update', 'sys/policy/app', { policy: 'path "secret/data/app" { capabilities = ["read"] }' });
    const token = (await t.request('update', 'auth/token/create', { policies: ['app'], ttl: '1h' }))!.auth!.clientToken;
    await t.request('update', 'sys/mounts/other', { type: 'kv', options: { version: '1' } });
    await t.request('update', 'other/x', { v: 'kv1-plaintext-value' });
    const file = await snapshotOf(t);
    assert.ok(file.subarray(0, 16).toString() === 'COFFER-SNAPSHOT\n');
    assert.ok(!file.includes(Buffer.from('kv1-plaintext-value')) && !file.includes(Buffer.from('"v":"one"')), 'values stay encrypted in the snapshot');

    // Everything changes after the snapshot...
    await t.request('update', 'secret/data/app', { data: { v: 'two' } });
    await t.request('update', 'secret/data/later', { data: { v: 'later' } });
    await t.request('delete', 'sys/policy/app');
    await t.request('update', 'auth/token/revoke', { token });
    await t.request('delete', 'sys/mounts/other');
    await t.request('update', 'sys/leases/revoke', { lease_id: leaseId });
    await assert.rejects(t.request('update', 'sys/leases/lookup', { lease_id: leaseId }), /invalid lease/);

    // ...and the restore brings back the moment of the snapshot.
    assert.equal(await restore(t, file), null);
    assert.equal(t.core.sealed, false, 'a snapshot of this server leaves it unsealed');
    assert.equal(await value(t, 'app'), 'one');
    assert.equal(await value(t, 'later'), undefined);
    assert.equal(await value(t, 'app', token), 'one', 'the token and its policy are back');
    assert.equal((await t.request('read', 'other/x'))!.data!['v'], 'kv1-plaintext-value');
    assert.equal((await t.request('update', 'sys/leases/lookup', { lease_id: leaseId }))!.data!['id'], leaseId, 'the lease is back');
  });

  it('refuses a corrupted or truncated file before anything is replaced', async () => {
    const t = await newTestCore();
    await t.request('update', 'secret/data/app', { data: { v: 'one' } });
    const file = await snapshotOf(t);
    await t.request('update', 'secret/data/app', { data: { v: 'two' } });
    const flipped = Buffer.from(file);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    for (const [what, bad, pattern] of [
      ['one flipped bit', flipped, /corrupted or truncated/],
      ['a truncated file', file.subarray(0, file.length - 100), /corrupted or truncated/],
      ['a file cut to its header', file.subarray(0, 20), /truncated/],
      ['a file that is no snapshot', Buffer.from('{"not": "a snapshot"}'), /not a coffer snapshot/],
      ['an empty body', Buffer.alloc(0), /no snapshot in the request body/],
    ] as const) {
      await assert.rejects(restore(t, bad), (e: Error) => pattern.test(e.message), what);
      assert.equal(await value(t, 'app'), 'two', `${what}: nothing was replaced`);
    }
  });

  it('takes another server\'s snapshot only with snapshot-force, and then seals for that server\'s shares', async () => {
    const source = await newTestCore({ shares: 3, threshold: 2 });
    await source.request('update', 'secret/data/app', { data: { v: 'from source' } });
    const file = await snapshotOf(source);
    const target = await newTestCore();
    await target.request('update', 'secret/data/app', { data: { v: 'target' } });
    await assert.rejects(restore(target, file), /snapshot is of another server/);
    assert.equal(await value(target, 'app'), 'target');
    assert.equal(await restore(target, file, true), null);
    assert.equal(target.core.sealed, true, 'sealed, for the other server\'s key shares');
    const status = await target.core.status();
    assert.deepEqual([status.n, status.t], [3, 2]);
    await assert.rejects(target.core.unseal(target.keys[0]!), /invalid key share/);
    await target.core.unseal(source.keys[2]!);
    assert.equal((await target.core.unseal(source.keys[0]!)).sealed, false);
    assert.equal(await value(target, 'app', source.rootToken), 'from source');
  });

  it('needs sudo', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/policy/reader', { policy: 'path "sys/storage/raft/snapshot" { capabilities = ["read", "update"] }' });
    const reader = (await t.request('update', 'auth/token/create', { policies: ['reader'] }))!.auth!.clientToken;
    await assert.rejects(t.request('read', 'sys/storage/raft/snapshot', {}, reader), /permission denied/);
  });
});

describe('automated snapshots', () => {
  it('writes a snapshot every interval, keeps the newest `retain`, and reports its status', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const dir = join(tempDir('coffer-auto-snap-'), 'daily');
    const path = 'sys/storage/raft/snapshot-auto/config/daily';
    for (const [body, pattern] of [
      [{ retain: 2, path_prefix: dir, storage_type: 'local', local_max_space: 0 }, /interval is required/],
      [{ interval: '1h', path_prefix: dir, storage_type: 'aws-s3', local_max_space: 0 }, /storage_type "aws-s3" is not supported/],
      [{ interval: '1h', storage_type: 'local', local_max_space: 0 }, /path_prefix is required/],
      [{ interval: '1h', path_prefix: 'relative/dir', storage_type: 'local', local_max_space: 0 }, /absolute/],
      [{ interval: '1h', path_prefix: dir, storage_type: 'local' }, /local_max_space is required/],
      [{ interval: '1h', path_prefix: dir, storage_type: 'local', local_max_space: 0, retain: 0 }, /retain must be at least 1/],
      [{ interval: '1h', path_prefix: dir, storage_type: 'local', local_max_space: 0, file_prefix: '../x' }, /file_prefix/],
    ] as const) {
      await assert.rejects(t.request('update', path, body), (e: Error) => pattern.test(e.message), JSON.stringify(body));
    }
    assert.equal(await t.request('update', path, { interval: 3600, retain: '2', path_prefix: dir, storage_type: 'local', local_max_space: '0' }), null);
    assert.deepEqual((await t.request('read', path))!.data, { interval: 3600, retain: 2, path_prefix: dir, file_prefix: 'vault-snapshot', storage_type: 'local', local_max_space: 0 });
    assert.deepEqual((await t.request('list', 'sys/storage/raft/snapshot-auto/config'))!.data!['keys'], ['daily']);

    await t.core.runPeriodic();
    assert.equal(existsSync(dir), false, 'nothing before the first interval');
    const written: string[] = [];
    for (let i = 0; i < 3; i++) {
      await t.request('update', 'secret/data/app', { data: { v: `round-${i}` } });
      clock.advance(3600);
      await t.core.runPeriodic();
      const status = (await t.request('read', 'sys/storage/raft/snapshot-auto/status/daily'))!.data!;
      assert.equal(status['last_snapshot_error'], '');
      assert.equal(status['consecutive_errors'], 0);
      written.push(String(status['last_snapshot_url']).replace('file://', ''));
    }
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2, 'the newest two are kept');
    assert.deepEqual(files.map((f) => join(dir, f)), written.slice(1).sort());
    assert.equal(statSync(written[2]!).mode & 0o777, 0o600);

    // The newest file restores the last round.
    await t.request('update', 'secret/data/app', { data: { v: 'after' } });
    assert.equal(await restore(t, readFileSync(written[2]!)), null);
    assert.equal(await value(t, 'app'), 'round-2');
  });

  it('refuses a snapshot beyond local_max_space, counting it in the status', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const dir = tempDir('coffer-auto-snap-small-');
    await t.request('update', 'sys/storage/raft/snapshot-auto/config/tiny', { interval: '10m', path_prefix: dir, storage_type: 'local', local_max_space: 100 });
    clock.advance(600);
    await t.core.runPeriodic();
    const status = (await t.request('read', 'sys/storage/raft/snapshot-auto/status/tiny'))!.data!;
    assert.match(String(status['last_snapshot_error']), /more than local_max_space \(100\)/);
    assert.equal(status['consecutive_errors'], 1);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(await t.request('read', 'sys/storage/raft/snapshot-auto/status/none'), null);
    await t.request('delete', 'sys/storage/raft/snapshot-auto/config/tiny');
    assert.equal(await t.request('read', 'sys/storage/raft/snapshot-auto/config/tiny'), null);
  });
});

describe('a restore the storage refuses', () => {
  it('leaves the server serving what it had', async () => {
    const storage = new FaultyStorage(new InmemStorage());
    const t = await newTestCore({ storage });
    await t.request('update', 'secret/data/app', { data: { v: 'one' } });
    const file = await snapshotOf(t);
    await t.request('update', 'secret/data/app', { data: { v: 'two' } });
    storage.failWritesAfter(0);
    await assert.rejects(restore(t, file), /storage failure/);
    storage.heal();
    assert.equal(t.core.sealed, false);
    assert.equal(await value(t, 'app'), 'two');
    await t.request('update', 'secret/data/app', { data: { v: 'three' } });
    assert.equal(await value(t, 'app'), 'three');
  });
});
