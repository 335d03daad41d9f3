import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, initAndUnseal, shell, startServerProcess, tempDir, unsealWith, type ServerProcess } from './server-process.js';

describe('snapshots from the CLI, across servers', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let aKeys: string[] = [];
  let aRoot = '';
  let appToken = '';
  const work = tempDir('coffer-snapshot-work-');
  const file = join(work, 'backup.snap');

  before(async () => {
    a = await startServerProcess(tempDir('coffer-snapshot-a-'));
    ({ keys: aKeys, rootToken: aRoot } = await initAndUnseal(a.url));
    await api(a.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: aRoot });
    await api(a.url, 'secret/data/app', { body: { data: { password: 'from-a' } }, token: aRoot });
    await api(a.url, 'sys/policies/acl/app', { method: 'PUT', body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' }, token: aRoot });
    appToken = String(((await api(a.url, 'auth/token/create', { body: { policies: ['app'], ttl: '2h' }, token: aRoot })).body!['auth'] as { client_token: string }).client_token);
    b = await startServerProcess(tempDir('coffer-snapshot-b-'));
  });
  after(async () => {
    for (const s of [a, b]) s.proc.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });

  it('saves a snapshot with the command Vault users type, mode 0600, progress on standard error', async () => {
    const saved = await shell(`cd ${work} && coffer operator raft snapshot save backup.snap`, { HOME: work, VAULT_ADDR: a.url, VAULT_TOKEN: aRoot });
    assert.equal(saved.code, 0, saved.err);
    assert.match(saved.err, /^Saved \d+\.\d KiB: snapshot written to backup\.snap$/m);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(!readFileSync(file).includes(Buffer.from('from-a')), 'the secret is encrypted in the file');
    const noSudo = await shell(`coffer operator snapshot save ${join(work, 'denied.snap')}`, { HOME: work, VAULT_ADDR: a.url, VAULT_TOKEN: appToken });
    assert.equal(noSudo.code, 2);
    assert.match(noSudo.err, /permission denied/);
  });

  it('refuses a corrupted or truncated file, and the server it was sent to is unchanged', async () => {
    const { rootToken: bRoot } = await initAndUnseal(b.url);
    const data = readFileSync(file);
    writeFileSync(join(work, 'cut.snap'), data.subarray(0, data.length - 1));
    const flipped = Buffer.from(data);
    flipped[100]! ^= 0x40;
    writeFileSync(join(work, 'flipped.snap'), flipped);
    for (const bad of ['cut.snap', 'flipped.snap']) {
      const r = await shell(`coffer operator snapshot restore -force ${join(work, bad)}`, { HOME: work, VAULT_ADDR: b.url, VAULT_TOKEN: bRoot });
      assert.equal(r.code, 2, bad);
      assert.match(r.err, /corrupted or truncated/);
      assert.equal((await api(b.url, 'sys/seal-status')).body!['sealed'], false, `${bad}: nothing was replaced`);
      assert.equal((await api(b.url, 'auth/token/lookup-self', { token: bRoot })).status, 200);
    }
    const notOurs = await shell(`coffer operator snapshot restore ${file}`, { HOME: work, VAULT_ADDR: b.url, VAULT_TOKEN: bRoot });
    assert.equal(notOurs.code, 2);
    assert.match(notOurs.err, /snapshot is of another server/);

    // Into the fresh server: restored with -force, it seals; A's shares unseal it; all of A is there.
    const restored = await shell(`coffer operator raft snapshot restore -force ${file}`, { HOME: work, VAULT_ADDR: b.url, VAULT_TOKEN: bRoot });
    assert.equal(restored.code, 0, restored.err);
    assert.match(restored.err, /The server is sealed: unseal it with the key shares of the server the snapshot was taken from/);
    await unsealWith(b.url, [aKeys[4]!, aKeys[0]!, aKeys[2]!]);
    assert.equal((await api(b.url, 'sys/seal-status')).body!['sealed'], false);
    const read = await api(b.url, 'secret/data/app', { token: appToken });
    assert.equal((read.body!['data'] as { data: { password: string } }).data.password, 'from-a', 'the token, its policy, the mount and the secret are back');
    assert.equal((await api(b.url, 'auth/token/lookup-self', { token: aRoot })).status, 200);
    assert.equal((await api(b.url, 'auth/token/lookup-self', { token: bRoot })).status, 403, 'B\'s own token went with its storage');
  });

  it('rolls a server back to its own snapshot, and it stays unsealed', async () => {
    await api(a.url, 'secret/data/app', { body: { data: { password: 'changed' } }, token: aRoot });
    const r = await shell(`coffer operator snapshot restore ${file}`, { HOME: work, VAULT_ADDR: a.url, VAULT_TOKEN: aRoot });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /snapshot restored/);
    assert.equal((await api(a.url, 'sys/seal-status')).body!['sealed'], false);
    const read = await api(a.url, 'secret/data/app', { token: aRoot });
    assert.equal((read.body!['data'] as { data: { password: string } }).data.password, 'from-a');
  });
});
