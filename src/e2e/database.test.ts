import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import nodeVault from 'node-vault';
import pg from 'pg';
import { serviceOrSkip } from '../engines/database/testing.js';
import { startTestServer, type TestServer } from '../http/testing.js';
import { BIN, tempDir } from './server-process.js';

/**
 * Dynamic PostgreSQL credentials the way users get them: the source article's commands
 * (seed 000, "Dynamic Database Credentials") run verbatim through the coffer CLI, hvac's
 * generate_credentials and sys.*_lease calls, and node-vault's generic read. The article's
 * server db.example.com is replaced by the machine's PostgreSQL, with a table in public.
 */
const LOCAL = 'postgresql://postgres@127.0.0.1:5432/test?sslmode=disable';
const skip = await serviceOrSkip('PostgreSQL at 127.0.0.1:5432', async () => {
  const c = new pg.Client(LOCAL);
  await c.connect();
  await c.end();
});
const CONNECTION_URL = 'postgresql://{{username}}:{{password}}@127.0.0.1:5432/test?sslmode=disable';

async function query(sql: string, params: unknown[] = []) {
  const c = new pg.Client(LOCAL);
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
const roleExists = async (name: string) => ((await query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount ?? 0) > 0;

function coffer(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 }, (error, out, err) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

describe('dynamic PostgreSQL credentials through real clients', { skip }, () => {
  let s: TestServer;
  let env: Record<string, string>;
  before(async () => {
    await query('CREATE TABLE IF NOT EXISTS public.article_items (v text)');
    s = await startTestServer({ unsealed: true });
    env = { HOME: tempDir('coffer-db-cli-'), COFFER_ADDR: s.url, COFFER_TOKEN: s.rootToken };
  });
  after(async () => {
    s.close();
    const left = await query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-app-%' OR rolname LIKE 'v-token-%'");
    for (const r of left.rows as { rolname: string }[]) await query(`DROP OWNED BY "${r.rolname}"; DROP ROLE "${r.rolname}"`);
  });

  it('runs the article\'s commands verbatim, and shows why its DROP ROLE revocation cannot finish', async () => {
    const run = (...args: string[]) => coffer(args, env);
    let r = await run('secrets', 'enable', 'database');
    assert.equal(r.code, 0, r.err);
    r = await run('write', 'database/config/production-postgres', 'plugin_name=postgresql-database-plugin', 'allowed_roles=app-readonly,app-readwrite', `connection_url=${CONNECTION_URL}`, 'username=postgres', 'password=vault_admin_password');
    assert.equal(r.code, 0, r.err);
    for (const [role, grant] of [['app-readonly', 'SELECT'], ['app-readwrite', 'SELECT, INSERT, UPDATE, DELETE']] as const) {
      r = await run(
        'write', `database/roles/${role}`, 'db_name=production-postgres',
        `creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT ${grant} ON ALL TABLES IN SCHEMA public TO "{{name}}";`,
        'revocation_statements=DROP ROLE IF EXISTS "{{name}}";', 'default_ttl=1h', 'max_ttl=24h',
      );
      assert.equal(r.code, 0, r.err);
    }
    r = await run('read', 'database/creds/app-readonly');
    assert.equal(r.code, 0, r.err);
    const row = (key: string) => new RegExp(`^${key}\\s+(\\S+)$`, 'm').exec(r.out)?.[1] ?? '';
    assert.equal(row('lease_duration'), '1h');
    assert.equal(row('lease_renewable'), 'true');
    const leaseId = row('lease_id');
    const username = row('username');
    assert.match(leaseId, /^database\/creds\/app-readonly\/[A-Za-z0-9]{24}$/);
    assert.match(username, /^v-root-app-read-/);
    assert.match(row('password'), /^[A-Za-z0-9-]{20}$/);
    assert.ok(await roleExists(username));

    const lookup = await run('lease', 'lookup', leaseId);
    assert.match(lookup.out, /^ttl\s+(59m\d+s|1h)$/m);
    const renewed = await run('lease', 'renew', '-increment=2h', leaseId);
    assert.match(renewed.out, /^lease_duration\s+2h$/m);

    // The article's revocation fails while the role holds its SELECT grant: the lease stays,
    // with PostgreSQL's reason and the fix, and -sync reports it.
    const failed = await run('lease', 'revoke', '-sync', leaseId);
    assert.equal(failed.code, 2, failed.out);
    assert.match(failed.err, /cannot be dropped because some objects depend on it/);
    assert.match(failed.err, /REASSIGN OWNED BY/);
    const still = await run('lease', 'lookup', '-format=json', leaseId);
    assert.match(JSON.parse(still.out).data.revoke_error as string, /depend on it/);
    // The statements docs/database.md gives work, and the retry uses them.
    r = await run('write', 'database/roles/app-readonly', 'revocation_statements=REASSIGN OWNED BY "{{name}}" TO CURRENT_USER; DROP OWNED BY "{{name}}"; DROP ROLE IF EXISTS "{{name}}";');
    assert.equal(r.code, 0, r.err);
    const revoked = await run('lease', 'revoke', '-sync', leaseId);
    assert.equal(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /Success! Revoked lease: database\/creds\/app-readonly\//);
    assert.equal(await roleExists(username), false);

    // -prefix revokes the rest; -force needs -prefix.
    const other = await run('read', '-field=username', 'database/creds/app-readonly');
    assert.ok(await roleExists(other.out.trim()));
    assert.match((await run('lease', 'revoke', '-prefix', 'database/creds/app-readonly')).out, /Revoked any leases with prefix/);
    assert.equal(await roleExists(other.out.trim()), false);
    assert.equal((await run('lease', 'revoke', '-force', leaseId)).code, 1);
  });

  it('serves hvac\'s generate_credentials and sys lease calls (python3-hvac, unchanged)', async () => {
    const python = '/usr/bin/python3';
    const script = fileURLToPath(new URL('../../src/e2e/hvac_database.py', import.meta.url));
    const hvac = existsSync(python) && (await new Promise<boolean>((res) => execFile(python, ['-c', 'import hvac'], (e) => res(e === null))));
    if (!hvac) {
      if (process.env['CI'] === 'true') throw new Error('python3-hvac is not installed: required in CI');
      return;
    }
    const out = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile(python, [script], { env: { PATH: process.env['PATH'] ?? '', COFFER_URL: s.url, COFFER_ROOT_TOKEN: s.rootToken, COFFER_PG_URL: CONNECTION_URL }, timeout: 60_000 }, (e, o, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: o, err }),
      ),
    );
    assert.equal(out.code, 0, `${out.out}\n${out.err}`);
    assert.match(out.out, /\d+ checks passed/);
  });

  it('serves node-vault\'s generic read of database/creds/:role with a lease', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: s.url, token: s.rootToken });
    await vault.write('database/roles/app-readwrite', { db_name: 'production-postgres', creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';`, default_ttl: '10m' });
    const res = await vault.read('database/creds/app-readwrite');
    assert.match(res.lease_id, /^database\/creds\/app-readwrite\//);
    assert.equal(res.lease_duration, 600);
    assert.equal(res.renewable, true);
    assert.ok(await roleExists(res.data.username));
    await vault.write('sys/leases/revoke', { lease_id: res.lease_id, sync: true });
    assert.equal(await roleExists(res.data.username), false);

    // A policy that grants creds/* but denies one role: that role is 403, and no user is created.
    await vault.addPolicy({ name: 'db-app', rules: 'path "database/creds/*" { capabilities = ["read"] }\npath "database/creds/app-readonly" { capabilities = ["deny"] }\npath "sys/leases/renew" { capabilities = ["update"] }' });
    const app = nodeVault({ apiVersion: 'v1', endpoint: s.url, token: (await vault.tokenCreate({ policies: ['db-app'] })).auth.client_token });
    vault.token = s.rootToken; // node-vault's tokenCreate switches its client to the new token
    const before = (await query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-token-app-read-%'")).rows[0].n as number;
    await assert.rejects(app.read('database/creds/app-readonly'), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403);
    assert.equal((await query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-token-app-read-%'")).rows[0].n, before);
    const mine = await app.read('database/creds/app-readwrite');
    assert.match(mine.data.username, /^v-token-app-read-/, 'the username carries the token\'s display name');
    const renewed = await app.write('sys/leases/renew', { lease_id: mine.lease_id, increment: 300 });
    assert.equal(renewed.lease_duration, 300);
    await assert.rejects(app.write('sys/leases/revoke-prefix/database/creds', {}), (e: { response?: { statusCode?: number } }) => e.response?.statusCode === 403);
    await vault.write('sys/leases/revoke', { lease_id: mine.lease_id, sync: true });
    assert.equal(await roleExists(mine.data.username), false);
  });
});
