import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeOidcProvider } from '../auth/jwt/testing.js';
import { startTestServer, type TestServer } from '../http/testing.js';
import { BIN, runCli, tempDir } from './server-process.js';

const coffer = runCli;

describe('coffer CLI against a fresh server', () => {
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;
  let keys: string[] = [];
  let root = '';
  const run = (args: string[], stdin?: string, extra: Record<string, string> = {}) => coffer(args, { ...env, ...extra }, stdin);

  before(async () => {
    server = await startTestServer();
    home = tempDir('coffer-cli-');
    env = { HOME: home, COFFER_ADDR: server.url };
  });
  after(() => server.close());

  it('reports an uninitialised, sealed server with exit code 2', async () => {
    const r = await run(['status']);
    assert.equal(r.code, 2);
    assert.match(r.out, /Initialized\s+false/);
    assert.match(r.out, /Sealed\s+true/);
  });

  it('initialises with operator init and unseals with three shares, one read from a prompt', async () => {
    const init = await run(['operator', 'init', '-format=json']);
    assert.equal(init.code, 0, init.err);
    const out = JSON.parse(init.out) as { unseal_keys_b64: string[]; unseal_keys_hex: string[]; root_token: string; unseal_threshold: number };
    assert.equal(out.unseal_keys_b64.length, 5);
    assert.equal(out.unseal_threshold, 3);
    keys = out.unseal_keys_hex;
    root = out.root_token;
    assert.match((await run(['operator', 'unseal', keys[0]!])).out, /Unseal Progress\s+1\/3/);
    assert.match((await run(['operator', 'unseal', '-'], `${keys[1]}\n`)).out, /Unseal Progress\s+2\/3/);
    const prompted = await run(['operator', 'unseal'], `${keys[2]}\n`);
    assert.equal(prompted.code, 0, prompted.err);
    assert.ok(!prompted.out.includes(keys[2]!), 'the key is never echoed');
    assert.match(prompted.out, /Sealed\s+false/);
    assert.equal((await run(['status'])).code, 0);
  });

  it('logs in with a token, storing it in the token file', async () => {
    const r = await run(['login', root]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Success! You are now authenticated/);
    assert.equal(readFileSync(join(home, '.coffer-token'), 'utf8'), root);
    const bad = await run(['login', 'hvs.wrong']);
    assert.equal(bad.code, 2, 'an error the server answered exits 2, as in Vault');
    assert.match(bad.err, /permission denied/);
  });

  it('enables, lists, tunes, moves and disables secrets engines', async () => {
    assert.equal((await run(['secrets', 'enable', '-path=secret', '-version=2', 'kv'])).code, 0);
    assert.match((await run(['secrets', 'enable', '-path=old', 'kv'])).out, /Success! Enabled the kv secrets engine at: old\//);
    const list = await run(['secrets', 'list']);
    assert.match(list.out, /^secret\/\s+kv\s+kv_/m);
    assert.match(list.out, /^old\/\s+kv\s+kv_\w+\s+n\/a$/m, 'an empty description reads n/a');
    const detailed = await run(['secrets', 'list', '-detailed']);
    assert.match(detailed.out, /^Path\s+Plugin\s+Accessor\s+Default TTL\s+Max TTL\s+Force No Cache\s+Replication\s+Seal Wrap\s+External Entropy Access\s+Options\s+Description\s+UUID/m);
    assert.match(detailed.out, /^secret\/\s+kv\s+kv_\w+\s+system\s+system\s+false\s+replicated\s+false\s+false\s+map\[version:2\]\s/m);
    assert.match(detailed.out, /^sys\/\s+system\s+system_\w+\s+n\/a\s+n\/a\s/m);
    assert.equal((await run(['secrets', 'tune', '-default-lease-ttl=1h', 'old'])).code, 0);
    assert.equal((await run(['read', '-field=default_lease_ttl', 'sys/mounts/old/tune'])).out.trim(), '3600');
    assert.equal((await run(['secrets', 'move', 'old', 'older'])).code, 0);
    assert.match((await run(['secrets', 'list', '-format=json'])).out, /"older\/"/);
    assert.equal((await run(['secrets', 'disable', 'older'])).code, 0);
    assert.match((await run(['auth', 'list'])).out, /^token\/\s+token\s+auth_token_/m);
  });

  it('drives KV v2 with kv put, get, patch, list, delete, undelete, destroy and metadata', async () => {
    assert.equal((await run(['kv', 'put', 'secret/app', 'user=admin', 'pass=s3cret'])).code, 0);
    assert.match((await run(['kv', 'get', 'secret/app'])).out, /== Data ==[\s\S]*pass\s+s3cret/);
    assert.equal((await run(['kv', 'get', '-field=pass', 'secret/app'])).out.trim(), 's3cret');
    assert.equal((await run(['kv', 'get', '-mount=secret', '-field=user', 'app'])).out.trim(), 'admin');
    const json = JSON.parse((await run(['kv', 'get', '-format=json', 'secret/app'])).out) as { data: { data: Record<string, string> } };
    assert.deepEqual(json.data.data, { pass: 's3cret', user: 'admin' });
    assert.equal((await run(['kv', 'patch', 'secret/app', 'pass=n3w'])).code, 0);
    assert.equal((await run(['kv', 'get', '-field=pass', 'secret/app'])).out.trim(), 'n3w');
    assert.equal((await run(['kv', 'get', '-version=1', '-field=pass', 'secret/app'])).out.trim(), 's3cret');
    assert.equal((await run(['kv', 'put', '-cas=1', 'secret/app', 'x=y'])).code, 2);
    assert.match((await run(['kv', 'list', 'secret/'])).out, /Keys\n----\napp/);
    assert.equal((await run(['kv', 'delete', 'secret/app'])).code, 0);
    // A deleted version: Vault prints its metadata, with the deletion time, and no Data section.
    const deleted = await run(['kv', 'get', 'secret/app']);
    assert.equal(deleted.code, 0, deleted.err);
    assert.match(deleted.out, /== Metadata ==[\s\S]*deletion_time\s+\d{4}-\d\d-\d\dT[\s\S]*version\s+2/);
    assert.doesNotMatch(deleted.out, /== Data ==/);
    assert.match((await run(['kv', 'get', '-version=1', 'secret/app'])).out, /deletion_time\s+n\/a/);
    assert.equal((await run(['kv', 'undelete', '-versions=2', 'secret/app'])).code, 0);
    assert.equal((await run(['kv', 'get', '-field=pass', 'secret/app'])).out.trim(), 'n3w');
    assert.equal((await run(['kv', 'destroy', '-versions=1', 'secret/app'])).code, 0);
    assert.equal((await run(['kv', 'metadata', 'put', '-max-versions=5', '-custom-metadata=owner=ops', 'secret/app'])).code, 0);
    const meta = await run(['kv', 'metadata', 'get', 'secret/app']);
    assert.match(meta.out, /max_versions\s+5/);
    assert.match(meta.out, /== Version 1 ==[\s\S]*destroyed\s+true/);
    assert.equal((await run(['kv', 'metadata', 'delete', 'secret/app'])).code, 0);
    assert.equal((await run(['kv', 'get', 'secret/app'])).code, 2);
  });

  it('wraps a response with -wrap-ttl and unwraps it with coffer unwrap, once', async () => {
    // A value no token, accessor or timestamp in the wrapped answer could contain by chance.
    assert.equal((await run(['kv', 'put', 'secret/wrapped', 'pw=wrapped-pw'])).code, 0);
    const shown = await run(['kv', 'get', '-wrap-ttl=5m', 'secret/wrapped']);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /^wrapping_token:\s+hvs\.\S+$/m);
    assert.match(shown.out, /^wrapping_token_ttl:\s+5m$/m);
    assert.match(shown.out, /^wrapping_token_creation_path:\s+secret\/data\/wrapped$/m);
    assert.ok(!shown.out.includes('wrapped-pw'), 'the secret itself is not shown');
    const token = (await run(['kv', 'get', '-wrap-ttl=60', '-field=wrapping_token', 'secret/wrapped'])).out.trim();
    const out = await run(['unwrap', '-format=json', token]);
    assert.equal(out.code, 0, out.err);
    assert.equal((JSON.parse(out.out) as { data: { data: { pw: string } } }).data.data.pw, 'wrapped-pw');
    const twice = await run(['unwrap', token]);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /wrapping token is not valid or does not exist/);
    // Without an argument the client token is the wrapping token; VAULT_WRAP_TTL wraps too.
    const wrapped = (await run(['write', '-field=wrapping_token', 'sys/wrapping/wrap', 'zip=zap'], undefined, { VAULT_WRAP_TTL: '2m' })).out.trim();
    const mine = await run(['unwrap', '-field=zip'], undefined, { COFFER_TOKEN: wrapped });
    assert.equal(mine.out.trim(), 'zap', mine.err);
  });

  it('rotates the barrier key with operator rotate and shows it with operator key-status', async () => {
    const rotated = await run(['operator', 'rotate']);
    assert.equal(rotated.code, 0, rotated.err);
    assert.match(rotated.out, /^Success! Rotated key\n\nKey Term\s+2\nInstall Time\s+\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d UTC\nEncryption Count\s+\d+\s*$/);
    const status = JSON.parse((await run(['operator', 'key-status', '-format=json'])).out) as { term: number };
    assert.equal(status.term, 2);
    assert.equal((await run(['kv', 'get', '-field=pw', 'secret/wrapped'])).out.trim(), 'wrapped-pw', 'what the old key wrote still reads');
  });

  it('upgrades a KV v1 mount with kv enable-versioning', async () => {
    await run(['secrets', 'enable', '-path=legacy', 'kv']);
    assert.match((await run(['kv', 'put', 'legacy/a', 'v=1'])).out, /Success! Data written to: legacy\/a/);
    assert.equal((await run(['kv', 'enable-versioning', 'legacy/'])).code, 0);
    assert.match((await run(['kv', 'get', 'legacy/a'])).out, /version\s+1[\s\S]*v\s+1/);
  });

  it('reads, writes, lists and deletes with key=value, key=@file and stdin', async () => {
    await run(['secrets', 'enable', '-path=kv1', 'kv']);
    const file = join(home, 'cert.pem');
    writeFileSync(file, 'PEM-CONTENT');
    assert.equal((await run(['write', 'kv1/a', 'cert=@' + file, 'plain=x'])).code, 0);
    assert.equal((await run(['read', '-field=cert', 'kv1/a'])).out.trim(), 'PEM-CONTENT');
    assert.equal((await run(['write', 'kv1/b', '-'], '{"json": "yes"}')).code, 0);
    assert.equal((await run(['read', '-field=json', 'kv1/b'])).out.trim(), 'yes');
    assert.equal((await run(['write', 'kv1/c', 'from=-'], 'stdin-value')).code, 0);
    assert.equal((await run(['read', '-field=from', 'kv1/c'])).out, 'stdin-value\n');
    assert.match((await run(['list', 'kv1'])).out, /Keys\n----\na\nb\nc/);
    assert.match((await run(['read', '-format=yaml', 'kv1/a'])).out, /data:\n  cert: PEM-CONTENT/);
    assert.equal((await run(['delete', 'kv1/a'])).code, 0);
    assert.equal((await run(['read', 'kv1/a'])).code, 2);
  });

  it('manages policies, including fmt that keeps comments', async () => {
    const file = join(home, 'app.hcl');
    writeFileSync(file, '# read the app secret\npath "secret/data/app"{\ncapabilities=["read"]\n}\n');
    assert.equal((await run(['policy', 'fmt', file])).code, 0);
    assert.equal(readFileSync(file, 'utf8'), '# read the app secret\npath "secret/data/app" {\n  capabilities = ["read"]\n}\n');
    assert.equal((await run(['policy', 'write', 'app', file])).code, 0);
    assert.match((await run(['policy', 'read', 'app'])).out, /# read the app secret/);
    assert.match((await run(['policy', 'list'])).out, /^app$/m);
    writeFileSync(join(home, 'bad.hcl'), 'path "x" { capabilities = ["raed"] }');
    const bad = await run(['policy', 'fmt', join(home, 'bad.hcl')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /invalid capability "raed"/);
    assert.equal((await run(['policy', 'delete', 'app'])).code, 0);
  });

  it('creates, looks up, renews, checks and revokes tokens', async () => {
    await run(['policy', 'write', 'reader', '-'], 'path "secret/data/*" { capabilities = ["read"] }');
    const created = JSON.parse((await run(['token', 'create', '-policy=reader', '-ttl=1h', '-format=json'])).out) as { auth: { client_token: string; accessor: string } };
    const tok = created.auth.client_token;
    assert.match((await run(['token', 'create', '-policy=reader', '-field=token'])).out.trim(), /^hvs\./);
    assert.match((await run(['token', 'lookup', tok])).out, /policies\s+\[default reader\]/);
    assert.match((await run(['token', 'lookup', '-accessor', created.auth.accessor])).out, /display_name\s+token/);
    assert.match((await run(['token', 'renew', '-increment=30m', tok])).out, /token_duration\s+30m/);
    const looked = (await run(['token', 'lookup', tok])).out;
    assert.match(looked, /^creation_ttl\s+1h$/m, 'durations as Vault prints them');
    assert.match(looked, /^entity_id\s+n\/a$/m);
    assert.match(looked, /^explicit_max_ttl\s+0s$/m);
    assert.match((await run(['token', 'create', '-policy=root'])).out, /^token_duration\s+∞$/m, 'no expiry reads ∞');
    assert.match((await run(['token', 'create', '-ttl=768h'])).out, /^token_duration\s+768h$/m);
    assert.equal((await run(['token', 'capabilities', tok, 'secret/data/x'])).out.trim(), 'read');
    assert.equal((await run(['token', 'capabilities', 'secret/data/x'])).out.trim(), 'root');
    assert.equal((await run(['token', 'revoke', tok])).code, 0);
    assert.equal((await run(['token', 'lookup', tok])).code, 2);
    const asToken = await run(['token', 'lookup'], undefined, { COFFER_TOKEN: tok });
    assert.match(asToken.err, /permission denied/);
  });

  it('falls back to VAULT_ADDR and VAULT_TOKEN', async () => {
    const r = await coffer(['token', 'lookup', '-field=policies'], { HOME: tempDir('coffer-cli-'), VAULT_ADDR: server.url, VAULT_TOKEN: root });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /root/);
  });

  it('explains every command with -h, and refuses unknown flags', async () => {
    assert.match((await run(['help'])).out, /Commands:[\s\S]*kv put/);
    for (const cmd of [['kv', 'put'], ['operator', 'unseal'], ['policy', 'fmt'], ['server'], ['secrets', 'tune']]) {
      const r = await run([...cmd, '-h']);
      assert.equal(r.code, 0);
      assert.match(r.out, /^Usage: coffer /);
    }
    for (const group of ['kv', 'operator', 'kv metadata']) {
      const r = await run([...group.split(' '), '-h']);
      assert.equal(r.code, 0, group);
      assert.match(r.out, new RegExp(`^Usage: coffer ${group} <command>`));
    }
    const raft = await run(['operator', 'raft', 'list-peers']);
    assert.equal(raft.code, 127);
    assert.equal(raft.err.trim().split('\n').length, 1, 'one line, not a page of usage');
    assert.match(raft.err, /Unknown subcommand "list-peers" of "coffer operator raft"/);
    const namespaces = await run(['namespace', 'list']);
    assert.equal(namespaces.code, 127);
    assert.match(namespaces.err, /^Unknown command "namespace"\. Run "coffer help"/);
    const bad = await run(['kv', 'get', '-nope', 'secret/x']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /flag provided but not defined: -nope/);
  });

  it('enables auth methods and logs in through userpass (password prompted, never echoed) and approle', async () => {
    assert.match((await run(['auth', 'enable', 'userpass'])).out, /Success! Enabled userpass auth method at: userpass\//);
    assert.match((await run(['auth', 'list'])).out, /^userpass\/\s+userpass\s+auth_userpass_/m);
    assert.equal((await run(['write', 'auth/userpass/users/alice', 'password=correct-horse', 'token_policies=default'])).code, 0);
    const asked = await run(['login', '-method=userpass', 'username=alice'], 'correct-horse\n');
    assert.equal(asked.code, 0, asked.err);
    assert.match(asked.err, /Password \(will be hidden\): /);
    assert.ok(!asked.out.includes('correct-horse'), 'the password is never echoed');
    assert.match(asked.out, /token_meta_username\s+alice/);
    assert.match((await run(['token', 'lookup'])).out, /display_name\s+userpass-alice/);
    const wrong = await run(['login', '-method=userpass', 'username=alice', 'password=nope']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /invalid username or password/);

    const asRoot = { COFFER_TOKEN: root };
    assert.equal((await run(['auth', 'enable', '-path=machines', 'approle'], undefined, asRoot)).code, 0);
    assert.equal((await run(['write', 'auth/machines/role/web', 'secret_id_ttl=10m', 'token_policies=default'], undefined, asRoot)).code, 0);
    const roleId = (await run(['read', '-field=role_id', 'auth/machines/role/web/role-id'], undefined, asRoot)).out.trim();
    const secretId = (await run(['write', '-f', '-field=secret_id', 'auth/machines/role/web/secret-id'], undefined, asRoot)).out.trim();
    const only = await run(['login', '-method=approle', '-path=machines', '-token-only', `role_id=${roleId}`, `secret_id=${secretId}`]);
    assert.equal(only.code, 0, only.err);
    assert.match(only.out.trim(), /^hvs\.[A-Za-z0-9]+$/);
    const written = await run(['write', '-format=json', 'auth/machines/login', `role_id=${roleId}`, `secret_id=${secretId}`]);
    assert.equal(written.code, 0, written.err);
    assert.equal((JSON.parse(written.out) as { auth: { metadata: Record<string, string> } }).auth.metadata['role_name'], 'web');
    assert.equal((await run(['login', root])).code, 0);
  });

  it('logs a person in with login -method=oidc: browser flow through a local OpenID provider stand-in, callback on the CLI\'s own listener', async () => {
    // No real provider is reachable: FakeOidcProvider speaks Discovery, the code flow with PKCE
    // and JWKS over HTTPS; this test plays the browser, following the URL the CLI prints.
    const idp = new FakeOidcProvider();
    await idp.start();
    try {
      const asRoot = { COFFER_TOKEN: root };
      assert.equal((await run(['auth', 'enable', 'oidc'], undefined, asRoot)).code, 0);
      const caFile = join(home, 'idp-ca.pem');
      writeFileSync(caFile, idp.caPem);
      const configured = await run(['write', 'auth/oidc/config', `oidc_discovery_url=${idp.issuer}`, `oidc_discovery_ca_pem=@${caFile}`, `oidc_client_id=${idp.clientId}`, `oidc_client_secret=${idp.clientSecret}`, 'default_role=people'], undefined, asRoot);
      assert.equal(configured.code, 0, configured.err);
      assert.equal((await run(['write', 'auth/oidc/role/people', 'user_claim=email', 'allowed_redirect_uris=http://localhost:8250/oidc/callback', 'token_policies=default'], undefined, asRoot)).code, 0);

      const child = spawn(process.execPath, [BIN, 'login', '-method=oidc', '-token-only', 'port=0', 'skip_browser=true'], { env: { PATH: process.env['PATH'] ?? '', ...env } });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const authUrl = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (c: Buffer) => {
          err += c.toString();
          const m = /(https:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.on('exit', () => reject(new Error(`the CLI exited first: ${err}`)));
      });
      const redirect = await new Promise<string>((resolve, reject) => {
        httpsGet(authUrl, { ca: idp.caPem }, (res) => {
          res.resume();
          resolve(String(res.headers.location));
        }).on('error', reject);
      });
      assert.match(redirect, /^http:\/\/localhost:\d+\/oidc\/callback\?code=/);
      const page = await fetch(redirect);
      assert.match(await page.text(), /Signed in/);
      const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
      assert.equal(code, 0, err);
      const token = out.trim();
      assert.match(token, /^hvs\.[A-Za-z0-9]+$/, 'only the token on stdout with -token-only');
      assert.match((await run(['token', 'lookup'], undefined, { COFFER_TOKEN: token })).out, /display_name\s+oidc-alice@example\.com/);
    } finally {
      await idp.stop();
    }
  });

  it('seals with operator seal, after which status exits 2', async () => {
    assert.equal((await run(['operator', 'seal'])).code, 0);
    assert.equal((await run(['status'])).code, 2);
    assert.ok(existsSync(join(home, '.coffer-token')));
  });
});
