import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { api, initAndUnseal, startServerProcess, tempDir, unreadable, unsealWith, writeLoad } from './server-process.js';

describe('SQLite server process', () => {
  it('keeps every acknowledged write through kill -9 in the middle of a load', async () => {
    const dir = tempDir('coffer-durable-');
    const first = await startServerProcess(dir);
    const { keys, rootToken } = await initAndUnseal(first.url);
    assert.equal((await api(first.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: rootToken })).status, 204);

    const load = writeLoad(first.url, rootToken, { writers: 32, prefix: 'k' });
    const { acked } = load;
    while (acked.size < 400) await new Promise((r) => setTimeout(r, 10));
    first.proc.kill('SIGKILL');
    await load.stop();
    await first.exited;
    assert.ok(acked.size >= 400);

    const second = await startServerProcess(dir, first.port);
    try {
      const status = await api(second.url, 'sys/seal-status');
      assert.equal(status.body!['sealed'], true, 'a restarted server comes back sealed');
      await unsealWith(second.url, [keys[4]!, keys[3]!, keys[1]!]);
      assert.equal((await api(second.url, 'sys/seal-status')).body!['sealed'], false);
      const missing = await unreadable(second.url, rootToken, acked);
      assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged writes were lost`);
    } finally {
      second.proc.kill('SIGTERM');
      await second.exited;
    }
  });

  it('leaves one working keyring and every entry decryptable after kill -9 in the middle of key rotations under load', async () => {
    const dir = tempDir('coffer-rotate-kill-');
    const first = await startServerProcess(dir);
    const { keys, rootToken } = await initAndUnseal(first.url);
    assert.equal((await api(first.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: rootToken })).status, 204);
    const load = writeLoad(first.url, rootToken, { writers: 16, prefix: 'r' });
    const { acked } = load;
    let rotations = 0;
    let stop = false;
    const rotator = async () => {
      while (!stop) {
        try {
          if ((await api(first.url, 'sys/rotate', { method: 'POST', body: {}, token: rootToken })).status === 204) rotations++;
        } catch {
          return;
        }
      }
    };
    const rotators = [rotator(), rotator()];
    // Kill at a moment no one chose: once enough has happened, after a random few milliseconds.
    while (acked.size < 300 || rotations < 20) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 25)));
    first.proc.kill('SIGKILL');
    stop = true;
    await Promise.all([load.stop(), ...rotators]);
    await first.exited;

    const second = await startServerProcess(dir, first.port);
    try {
      await unsealWith(second.url, keys.slice(0, 3));
      assert.equal((await api(second.url, 'sys/seal-status')).body!['sealed'], false, 'the keyring opens with the original shares');
      const term = Number(((await api(second.url, 'sys/key-status', { token: rootToken })).body!['data'] as { term: number }).term);
      assert.ok(term >= rotations + 1, `term ${term} holds every acknowledged rotation (${rotations})`);
      const lost = await unreadable(second.url, rootToken, acked);
      assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged writes do not read back`);
      assert.equal((await api(second.url, 'secret/data/after', { body: { data: { value: 'x' } }, token: rootToken })).status, 200, 'and it writes again');
    } finally {
      second.proc.kill('SIGTERM');
      await second.exited;
    }
  });

  it('stores no secret, token or key share in plaintext in its files', async () => {
    const dir = tempDir('coffer-raw-');
    const s = await startServerProcess(dir);
    const { keys, rootToken } = await initAndUnseal(s.url);
    await api(s.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: rootToken });
    const secret = 'Tr0ub4dor-plaintext-canary-7f3a';
    await api(s.url, 'secret/data/app', { body: { data: { password: secret } }, token: rootToken });
    await api(s.url, 'cubbyhole/note', { body: { note: `${secret}-cubby` }, token: rootToken });
    const child = (await api(s.url, 'auth/token/create', { body: { policies: ['default'] }, token: rootToken })).body!['auth'] as { client_token: string; accessor: string };
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    const raw = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('coffer.db')).map((f) => readFileSync(join(dir, f))));
    assert.ok(raw.length > 0);
    const needles = [secret, rootToken, child.client_token, child.accessor, ...keys, ...keys.map((k) => Buffer.from(k, 'hex').toString('base64'))];
    for (const needle of needles) assert.equal(raw.includes(Buffer.from(needle)), false, `found ${needle.slice(0, 12)}… in plaintext`);
    // Sanity: the file does hold the ciphertext of that write (the key path is visible, as in Vault).
    assert.ok(raw.includes(Buffer.from('logical/')));
  });

  it('shuts down cleanly on SIGTERM, and the file opens again', async () => {
    const dir = tempDir('coffer-term-');
    const s = await startServerProcess(dir);
    const { keys, rootToken } = await initAndUnseal(s.url);
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    const again = await startServerProcess(dir, s.port);
    await unsealWith(again.url, keys.slice(2));
    assert.equal((await api(again.url, 'auth/token/lookup-self', { token: rootToken })).status, 200);
    again.proc.kill('SIGINT');
    assert.equal(await again.exited, 0);
  });
});
