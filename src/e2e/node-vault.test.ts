import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodeVault from 'node-vault';
import { FakeOidcProvider } from '../auth/jwt/testing.js';
import { startTestServer, type TestServer } from '../http/testing.js';
import { tempDir } from './server-process.js';

/** The npm package node-vault (pinned in package-lock.json), used unchanged against coffer. */
describe('node-vault client', () => {
  let server: TestServer;
  /** The root token of the server the first test initialises. */
  let root = '';
  let keys: string[] = [];
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('initialises, unseals, writes and reads KV v2, and meets a 403 outside its policy', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url });
    assert.equal((await vault.initialized()).initialized, false);
    const init = await vault.init({ secret_shares: 5, secret_threshold: 3 });
    assert.equal(init.keys.length, 5);
    vault.token = init.root_token;
    root = init.root_token;
    keys = init.keys;
    let status: { sealed: boolean; progress: number } = { sealed: true, progress: 0 };
    for (const key of init.keys.slice(1, 4)) status = await vault.unseal({ secret_shares: 1, key });
    assert.equal(status.sealed, false);
    assert.equal((await vault.status()).sealed, false);

    await vault.mount({ mount_point: 'secret', type: 'kv', options: { version: '2' } });
    const written = await vault.write('secret/data/app', { data: { password: 's3cret' } });
    assert.equal(written.data.version, 1);
    const read = await vault.read('secret/data/app');
    assert.deepEqual(read.data.data, { password: 's3cret' });
    const listed = await vault.list('secret/metadata/');
    assert.deepEqual(listed.data.keys, ['app']);

    await vault.addPolicy({ name: 'app-read', rules: 'path "secret/data/app" { capabilities = ["read"] }' });
    const created = await vault.tokenCreate({ policies: ['app-read'] });
    const limited = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: created.auth.client_token });
    assert.deepEqual((await limited.read('secret/data/app')).data.data, { password: 's3cret' });
    await assert.rejects(limited.read('secret/data/other'), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403);
    await assert.rejects(limited.write('secret/data/app', { data: { password: 'x' } }), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403);
    const self = await limited.tokenLookupSelf();
    assert.deepEqual(self.data.policies, ['app-read', 'default']);
  });

  it('lists without a trailing slash, mounts with numeric options, and gets 403 for a dead token lookup', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    await vault.mount({ mount_point: 'nv2', type: 'kv', options: { version: 2 } });
    await vault.write('nv2/data/team/a', { data: { k: 'v' } });
    assert.deepEqual((await vault.list('nv2/metadata/team')).data.keys, ['a']);
    assert.deepEqual((await vault.list('nv2/metadata')).data.keys, ['team/']);
    await vault.mount({ mount_point: 'nv1', type: 'kv' });
    await vault.write('nv1/team/a', { k: 'v' });
    assert.deepEqual((await vault.list('nv1/team')).data.keys, ['a']);
    await assert.rejects(vault.tokenLookup({ token: 'hvs.unknown' }), (e: { response?: { statusCode?: number; body?: { errors?: string[] } } }) => e.response?.statusCode === 403 && e.response.body?.errors?.[0] === 'bad token');
  });

  it('logs in through userpass and approle with its own helpers, then reads a secret', async () => {
    const admin = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    await admin.addPolicy({ name: 'nv-read', rules: 'path "secret/data/app" { capabilities = ["read"] }' });
    await admin.enableAuth({ mount_point: 'userpass', type: 'userpass' });
    await admin.write('auth/userpass/users/nina', { password: 'pw-nina', token_policies: 'nv-read' });
    const person = nodeVault({ apiVersion: 'v1', endpoint: server.url });
    const login = await person.userpassLogin({ username: 'nina', password: 'pw-nina' });
    assert.equal(person.token, login.auth.client_token, 'the helper takes the token it was issued');
    assert.deepEqual(login.auth.token_policies, ['default', 'nv-read']);
    assert.deepEqual((await person.read('secret/data/app')).data.data, { password: 's3cret' });
    const self = await person.tokenLookupSelf();
    assert.equal(self.data.type, 'service');
    assert.equal(typeof self.data.ttl, 'number');
    assert.match(self.data.expire_time, /^\d{4}-\d\d-\d\dT/);
    await assert.rejects(nodeVault({ apiVersion: 'v1', endpoint: server.url }).userpassLogin({ username: 'nina', password: 'wrong' }), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 400);

    await admin.enableAuth({ mount_point: 'approle', type: 'approle' });
    await admin.addApproleRole({ role_name: 'svc', policies: 'nv-read', secret_id_num_uses: 2 });
    const roleId = (await admin.getApproleRoleId({ role_name: 'svc' })).data.role_id as string;
    const secretId = (await admin.getApproleRoleSecret({ role_name: 'svc' })).data.secret_id as string;
    const machine = nodeVault({ apiVersion: 'v1', endpoint: server.url });
    const issued = await machine.approleLogin({ role_id: roleId, secret_id: secretId });
    assert.equal(machine.token, issued.auth.client_token);
    assert.deepEqual(issued.auth.metadata, { role_name: 'svc' });
    assert.deepEqual((await machine.read('secret/data/app')).data.data, { password: 's3cret' });
    await nodeVault({ apiVersion: 'v1', endpoint: server.url }).approleLogin({ role_id: roleId, secret_id: secretId });
    await assert.rejects(nodeVault({ apiVersion: 'v1', endpoint: server.url }).approleLogin({ role_id: roleId, secret_id: secretId }), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 400, 'a secret-id with two uses logs in twice');
  });

  it('logs in with a JWT through its jwtLogin helper, keys from a JWKS (a local OpenID provider stand-in)', async () => {
    // No identity provider is reachable: FakeOidcProvider serves the JWKS and signs the JWT.
    const idp = new FakeOidcProvider();
    await idp.start();
    try {
      const admin = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
      await admin.enableAuth({ mount_point: 'jwt', type: 'jwt' });
      await admin.write('auth/jwt/config', { jwks_url: idp.jwksUrl, jwks_ca_pem: idp.caPem });
      await admin.write('auth/jwt/role/deploy', { role_type: 'jwt', user_claim: 'sub', bound_audiences: ['coffer'], bound_claims: { env: 'prod' }, token_policies: ['nv-read'] });
      const job = nodeVault({ apiVersion: 'v1', endpoint: server.url });
      const login = await job.jwtLogin({ role: 'deploy', jwt: await idp.sign({ sub: 'pipeline-9', aud: 'coffer', env: 'prod' }) });
      assert.equal(job.token, login.auth.client_token, 'the helper takes the token it was issued');
      assert.deepEqual((await job.read('secret/data/app')).data.data, { password: 's3cret' });
      const refused = nodeVault({ apiVersion: 'v1', endpoint: server.url }).jwtLogin({ role: 'deploy', jwt: await idp.sign({ sub: 'pipeline-9', aud: 'coffer', env: 'dev' }) });
      await assert.rejects(refused, (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 400);
    } finally {
      await idp.stop();
    }
  });

  it('lists auth and identity paths with and without a trailing slash, and a deny inside a granted tree holds for LIST and read', async () => {
    const admin = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    await admin.addApproleRole({ role_name: 'locked', policies: 'default' });
    await admin.getApproleRoleSecret({ role_name: 'svc' });
    await admin.getApproleRoleSecret({ role_name: 'locked' });
    await admin.write('identity/entity', { name: 'listed-entity' });
    await admin.addPolicy({
      name: 'operator',
      rules: [
        'path "auth/approle/role/*" { capabilities = ["read", "list", "update"] }',
        'path "auth/approle/role/locked" { capabilities = ["deny"] }',
        'path "auth/approle/role/locked/*" { capabilities = ["deny"] }',
        'path "identity/entity/id" { capabilities = ["list"] }',
        'path "identity/entity/id/*" { capabilities = ["read", "list"] }',
        'path "auth/jwt/role/*" { capabilities = ["read", "list"] }',
        'path "auth/jwt/role/deploy" { capabilities = ["deny"] }',
      ].join('\n'),
    });
    const token = ((await admin.tokenCreate({ policies: ['operator'] })) as { auth: { client_token: string } }).auth.client_token;
    const op = nodeVault({ apiVersion: 'v1', endpoint: server.url, token });
    const keys = (r: unknown) => (r as { data: { keys: string[] } }).data.keys;
    const forbidden = (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403;
    const accessors = keys(await op.list('auth/approle/role/svc/secret-id'));
    assert.equal(accessors.length, 1, 'the secret-id just generated (the earlier one is used up)');
    assert.deepEqual(keys(await op.list('auth/approle/role/svc/secret-id/')), accessors);
    const entities = keys(await op.list('identity/entity/id'));
    assert.ok(entities.length >= 1);
    assert.deepEqual(keys(await op.list('identity/entity/id/')), entities);
    await assert.rejects(op.list('auth/approle/role/locked/secret-id'), forbidden, 'LIST under a denied role');
    await assert.rejects(op.list('auth/approle/role/locked/secret-id/'), forbidden, 'LIST with a slash under a denied role');
    await assert.rejects(op.read('auth/approle/role/locked/role-id'), forbidden);
    await assert.rejects(op.read('auth/approle/role/locked'), forbidden);
    assert.ok((await op.read('auth/approle/role/svc/role-id')).data.role_id);
    assert.deepEqual(keys(await op.list('auth/jwt/role/')), ['deploy']);
    await assert.rejects(op.read('auth/jwt/role/deploy'), forbidden);
  });

  it('enables, lists and disables an audit device with its audit helpers; a sudo-less token may not list them', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    const file = join(tempDir('coffer-nv-audit-'), 'audit.log');
    await vault.enableAudit({ name: 'nv-file', type: 'file', description: 'node-vault', options: { file_path: file } });
    const listed = (await vault.audits()) as { data: Record<string, { type: string; description: string; options: Record<string, string> }> };
    assert.deepEqual(listed.data['nv-file/'], { type: 'file', description: 'node-vault', options: { file_path: file }, local: false, path: 'nv-file/' });
    await vault.read('secret/data/app');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; request: { path: string } });
    assert.deepEqual(lines.slice(-2).map((l) => [l.type, l.request.path]), [['request', 'secret/data/app'], ['response', 'secret/data/app']]);
    await vault.addPolicy({ name: 'audit-read', rules: 'path "sys/audit" { capabilities = ["read"] }' });
    // tokenCreate makes the client use the token it created: a client of its own does it.
    const minter = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    const created = (await minter.tokenCreate({ policies: ['audit-read'] })) as { auth: { client_token: string } };
    const nosudo = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: created.auth.client_token });
    await assert.rejects(nosudo.audits(), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403, 'listing audit devices needs sudo');
    await vault.disableAudit({ name: 'nv-file' });
    assert.equal(((await vault.audits()) as { data: Record<string, unknown> }).data['nv-file/'], undefined);
  });

  it('wraps a read with the X-Vault-Wrap-TTL header and unwraps it with its unwrap helper, once', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    await vault.write('secret/data/nv-wrapped', { data: { pin: '1234' } });
    const wrapped = (await vault.read('secret/data/nv-wrapped', { headers: { 'X-Vault-Wrap-TTL': '60s' } })) as { data: unknown; wrap_info: { token: string; ttl: number } };
    assert.equal(wrapped.data, null);
    assert.equal(wrapped.wrap_info.ttl, 60);
    const out = (await vault.unwrap({ token: wrapped.wrap_info.token })) as { data: { data: { pin: string } } };
    assert.equal(out.data.data.pin, '1234');
    await assert.rejects(vault.unwrap({ token: wrapped.wrap_info.token }), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 400);
  });

  it('generates a new root token with its generateRoot helpers, and cancels an attempt only with a token', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root });
    const attempt = await vault.generateRootInit({});
    assert.equal(attempt.started, true);
    const otp = String(attempt.otp);
    let done: { complete: boolean; encoded_root_token: string } = { complete: false, encoded_root_token: '' };
    for (const key of keys.slice(0, 3)) done = await vault.generateRootUpdate({ key, nonce: attempt.nonce });
    assert.equal(done.complete, true);
    const bytes = Buffer.from(done.encoded_root_token, 'base64');
    const token = Buffer.from(bytes.map((b, i) => b ^ otp.charCodeAt(i))).toString();
    const fresh = nodeVault({ apiVersion: 'v1', endpoint: server.url, token });
    assert.deepEqual((await fresh.tokenLookupSelf()).data.policies, ['root']);

    await vault.generateRootInit({});
    const anonymous = nodeVault({ apiVersion: 'v1', endpoint: server.url });
    await assert.rejects(anonymous.generateRootCancel(), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403);
    await vault.generateRootCancel();
    assert.equal((await vault.read('sys/generate-root/attempt')).started, false);
  });
});
