import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import HashiVault from 'hashi-vault-js';
import VaultClient from 'node-vault-client';
import { startTestServer, type TestServer } from '../http/testing.js';

/**
 * Two more npm Vault clients, pinned in package-lock.json and used unchanged: hashi-vault-js
 * (userpass and AppRole logins, KV v2 reads) and node-vault-client (AppRole login, which it
 * follows with lookup-self to schedule its renewals, then reads).
 */
describe('hashi-vault-js and node-vault-client against coffer', () => {
  let s: TestServer;
  let roleId = '';
  let secretId = '';
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.url}/v1/${path}`, { method, headers: { 'x-vault-token': s.rootToken }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return res.status === 204 ? null : ((await res.json()) as { data: Record<string, unknown> });
  };

  before(async () => {
    s = await startTestServer({ unsealed: true });
    await api('POST', 'secret/data/app', { data: { password: 'from-coffer' } });
    await api('POST', 'sys/policy/reader', { policy: 'path "secret/data/app" { capabilities = ["read"] }' });
    await api('POST', 'sys/auth/userpass', { type: 'userpass' });
    await api('POST', 'auth/userpass/users/jo', { password: 'pw-jo', token_policies: 'reader' });
    await api('POST', 'sys/auth/approle', { type: 'approle' });
    await api('POST', 'auth/approle/role/svc', { token_policies: 'reader', token_ttl: '1h' });
    roleId = String((await api('GET', 'auth/approle/role/svc/role-id'))!.data['role_id']);
    secretId = String((await api('POST', 'auth/approle/role/svc/secret-id'))!.data['secret_id']);
  });
  after(() => s.close());

  it('hashi-vault-js logs in with userpass and AppRole and reads a KV v2 secret', async () => {
    const vault = new HashiVault({ baseUrl: `${s.url}/v1`, timeout: 5000 });
    // The client answers the auth block of a login, and the data of a read, typed as Object.
    type Auth = { client_token: string; token_policies: string[]; lease_duration: number };
    const person = (await vault.loginWithUserpass('jo', 'pw-jo')) as Auth;
    assert.deepEqual(person.token_policies, ['default', 'reader']);
    const read = (await vault.readKVSecret(person.client_token, 'app')) as { data: unknown };
    assert.deepEqual(read.data, { password: 'from-coffer' });
    const machine = (await vault.loginWithAppRole(roleId, secretId)) as Auth;
    assert.equal(machine.lease_duration, 3600);
    assert.deepEqual(((await vault.readKVSecret(machine.client_token, 'app')) as { data: unknown }).data, { password: 'from-coffer' });
    await assert.rejects(async () => vault.loginWithUserpass('jo', 'wrong'));
  });

  it('node-vault-client logs in with AppRole, looks its token up, and reads', async () => {
    const client = VaultClient.boot('coffer-test', { api: { url: `${s.url}/` }, auth: { type: 'appRole', config: { role_id: roleId, secret_id: secretId } }, logger: false });
    try {
      const lease = await client.read('secret/data/app');
      assert.deepEqual(lease.getValue('data'), { password: 'from-coffer' });
    } finally {
      // Its renewal timer is not unref'd: stop it, or it would keep the test process alive.
      const auth: unknown = Reflect.get(client, '__auth');
      const timer: unknown = auth ? Reflect.get(auth, '__refreshTimeout') : null;
      if (timer && typeof (timer as { close?: unknown }).close === 'function') (timer as { close: () => void }).close();
      VaultClient.clear('coffer-test');
    }
  });
});
