import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newTestCore, type TestCore } from '../../core/testing.js';
import { InmemStorage } from '../../storage/index.js';
import { ManualClock } from '../../util/index.js';
import { ScratchPostgres, serviceOrSkip } from './testing.js';

/** The machine's PostgreSQL 15 (trust auth): role existence and privileges are real here, passwords are not. */
const LOCAL = 'postgresql://postgres@127.0.0.1:5432/test?sslmode=disable';
const skip = await serviceOrSkip('PostgreSQL at 127.0.0.1:5432', async () => {
  const c = new pg.Client(LOCAL);
  await c.connect();
  await c.end();
});

async function query(sql: string, params: unknown[] = [], url = LOCAL) {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

const roleExists = async (name: string, url = LOCAL) => ((await query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name], url)).rowCount ?? 0) > 0;

/** The article's statements (seed 000, "Dynamic Database Credentials"). */
const READONLY = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`;
const READWRITE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{{name}}";`;

/** Every core a test made: sealed at the end, which closes its connection pools. */
const cores: TestCore[] = [];
after(async () => {
  for (const c of cores) await c.core.seal();
});

async function setup(t: { clock?: ManualClock; storage?: InmemStorage } = {}) {
  const clock = t.clock ?? new ManualClock(Date.now());
  const core = await newTestCore({ clock, ...(t.storage ? { storage: t.storage } : {}), revocation: { maxAttempts: 3, initialBackoff: 1, maxBackoff: 4 } });
  cores.push(core);
  await core.request('update', 'sys/mounts/database', { type: 'database' });
  await core.request('update', 'database/config/local', {
    plugin_name: 'postgresql-database-plugin',
    connection_url: 'postgresql://{{username}}@127.0.0.1:5432/test?sslmode=disable',
    username: 'postgres',
    password: 'unused-by-trust',
    allowed_roles: 'app-*',
  });
  await core.request('update', 'database/roles/app-readonly', { db_name: 'local', creation_statements: READONLY, default_ttl: '1h', max_ttl: '24h' });
  await core.request('update', 'database/roles/app-readwrite', { db_name: 'local', creation_statements: READWRITE, default_ttl: '1h', max_ttl: '24h' });
  return { t: core, clock };
}

async function creds(t: TestCore, role = 'app-readonly') {
  const res = await t.request('read', `database/creds/${role}`);
  return { username: String(res!.data!['username']), password: String(res!.data!['password']), leaseId: res!.lease!.id, duration: res!.lease!.duration };
}

describe('database engine: postgresql-database-plugin', { skip }, () => {
  before(async () => {
    await query('DROP TABLE IF EXISTS public.coffer_items; CREATE TABLE public.coffer_items (v text)');
    await query("INSERT INTO public.coffer_items (v) VALUES ('one')");
  });
  // A failed run may leave users behind in the shared server: they go with the suite.
  after(async () => {
    const left = await query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-app-%'");
    for (const r of left.rows as { rolname: string }[]) await query(`DROP OWNED BY "${r.rolname}"; DROP ROLE "${r.rolname}"`);
  });

  it('never returns the root password on read', async () => {
    const { t } = await setup();
    const res = await t.request('read', 'database/config/local');
    assert.equal(res?.data?.['plugin_name'], 'postgresql-database-plugin');
    assert.ok(!JSON.stringify(res).includes('unused-by-trust'));
    assert.deepEqual(res?.data?.['allowed_roles'], ['app-*']);
  });

  it('creates a user per read, named by Vault\'s template, that can do exactly what it was granted', async () => {
    const { t } = await setup();
    const a = await creds(t);
    const b = await creds(t);
    assert.notEqual(a.username, b.username);
    assert.notEqual(a.password, b.password);
    assert.match(a.username, /^v-root-app-read-[A-Za-z0-9]{20}-\d{10}$/);
    assert.match(a.password, /^[A-Za-z0-9-]{20}$/);
    assert.equal(a.duration, 3600);
    const asUser = (user: string) => `postgresql://${user}@127.0.0.1:5432/test?sslmode=disable`;
    assert.equal((await query('SELECT count(*)::int AS n FROM public.coffer_items', [], asUser(a.username))).rows[0].n >= 1, true);
    await assert.rejects(query("INSERT INTO public.coffer_items (v) VALUES ('no')", [], asUser(a.username)), /permission denied/);
    const rw = await creds(t, 'app-readwrite');
    await query("INSERT INTO public.coffer_items (v) VALUES ('yes')", [], asUser(rw.username));
    for (const c of [a, b, rw]) await t.request('update', 'sys/leases/revoke', { lease_id: c.leaseId, sync: true });
  });

  it('removes the user on revoke and on expiry, even across a restart between issue and expiry', async () => {
    const storage = new InmemStorage();
    const clock = new ManualClock(Date.now());
    const { t } = await setup({ clock, storage });
    const revoked = await creds(t);
    const expiring = await creds(t);
    assert.ok(await roleExists(revoked.username));
    await t.request('update', 'sys/leases/revoke', { lease_id: revoked.leaseId });
    assert.equal(await roleExists(revoked.username), false);
    // The server goes down; the lease expires meanwhile; a new process unseals the same storage.
    await t.core.seal();
    clock.advance(3601);
    const again = await newTestCore({ clock, storage, shares: 1 }).catch(() => null);
    assert.equal(again, null, 'the storage is initialised already');
    for (const k of t.keys) await t.core.unseal(k);
    await t.core.sweepExpiredLeases();
    assert.equal(await roleExists(expiring.username), false);
  });

  it('renews with ALTER ROLE … VALID UNTIL, capped at the role\'s max TTL', async () => {
    const { t } = await setup();
    const c = await creds(t);
    const res = await t.request('update', 'sys/leases/renew', { lease_id: c.leaseId, increment: '2h' });
    assert.equal(res?.lease?.duration, 7200);
    const until = (await query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [c.username])).rows[0].rolvaliduntil as Date;
    assert.ok(Math.abs(until.getTime() - (Date.now() + 7200_000)) < 5_000, `VALID UNTIL moved to ${until.toISOString()}`);
    await t.request('update', 'sys/leases/revoke', { lease_id: c.leaseId, sync: true });
  });

  it('keeps the article\'s DROP ROLE revocation as irrevocable with PostgreSQL\'s reason, and the documented statements work', async () => {
    const { t, clock } = await setup();
    await t.request('update', 'database/roles/app-article', { db_name: 'local', creation_statements: READONLY, revocation_statements: 'DROP ROLE IF EXISTS "{{name}}";', default_ttl: '1h' });
    const c = await creds(t, 'app-article');
    for (let i = 0; i < 3; i++) {
      clock.advance(i === 0 ? 3600 : 10);
      await t.core.sweepExpiredLeases();
    }
    const info = (await t.request('update', 'sys/leases/lookup', { lease_id: c.leaseId }))!.data!;
    assert.equal(info['irrevocable'], true);
    assert.match(String(info['revoke_error']), /cannot be dropped because some objects depend on it.*REASSIGN OWNED BY/);
    const listed = await t.request('read', 'sys/leases', { type: 'irrevocable' });
    assert.ok((listed?.data?.['leases'] as { lease_id: string }[]).some((l) => l.lease_id === c.leaseId));
    // The fix docs/database.md gives: take the privileges away first. The retry uses the role's new statements.
    await t.request('update', 'database/roles/app-article', {
      revocation_statements: 'REASSIGN OWNED BY "{{name}}" TO CURRENT_USER; DROP OWNED BY "{{name}}"; DROP ROLE IF EXISTS "{{name}}";',
    });
    await t.request('update', 'sys/leases/revoke', { lease_id: c.leaseId, sync: true });
    assert.equal(await roleExists(c.username), false);
  });

  it('revokes by default without any public schema (vault#13258) and treats a user already gone as revoked', async () => {
    const { t } = await setup();
    await query('CREATE SCHEMA IF NOT EXISTS coffer_app');
    await query('CREATE TABLE IF NOT EXISTS coffer_app.things (id int)');
    await t.request('update', 'database/roles/app-schema', {
      db_name: 'local',
      creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT USAGE ON SCHEMA coffer_app TO "{{name}}"; GRANT SELECT ON ALL TABLES IN SCHEMA coffer_app TO "{{name}}";`,
    });
    const c = await creds(t, 'app-schema');
    await t.request('update', 'sys/leases/revoke', { lease_id: c.leaseId, sync: true });
    assert.equal(await roleExists(c.username), false);
    const gone = await creds(t, 'app-schema');
    await query(`DROP OWNED BY "${gone.username}"; DROP ROLE "${gone.username}"`);
    await t.request('update', 'sys/leases/revoke', { lease_id: gone.leaseId, sync: true });
    await assert.rejects(t.request('update', 'sys/leases/lookup', { lease_id: gone.leaseId }), { message: 'invalid lease' });
  });

  it('gives 16 concurrent callers working credentials and leaves no orphan role when some creations fail', async () => {
    const { t } = await setup();
    const before = (await query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-root-app-read-%'")).rows[0].n as number;
    const all = await Promise.all(Array.from({ length: 16 }, () => creds(t)));
    assert.equal(new Set(all.map((c) => c.username)).size, 16);
    for (const c of all) assert.ok(await roleExists(c.username));
    // A creation failing half-way (the GRANT names a missing table) leaves nothing behind.
    await t.request('update', 'database/roles/app-broken', { db_name: 'local', creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT SELECT ON public.no_such_table TO "{{name}}";` });
    await assert.rejects(t.request('read', 'database/creds/app-broken'), { message: /failed to create the database user: postgresql: relation "public.no_such_table" does not exist/ });
    assert.equal((await query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-root-app-brok-%'")).rows[0].n, 0);
    await t.request('update', 'sys/leases/revoke-prefix/database/creds/app-readonly', { sync: true });
    assert.equal((await query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-root-app-read-%'")).rows[0].n, before);
  });

  it('refuses a role outside allowed_roles, an unknown role, a role naming an unknown db, and a bad plugin', async () => {
    const { t } = await setup();
    await t.request('update', 'database/roles/other', { db_name: 'local', creation_statements: READONLY });
    await assert.rejects(t.request('read', 'database/creds/other'), { message: '"other" is not an allowed role' });
    await assert.rejects(t.request('read', 'database/creds/nope'), { message: 'unknown role: nope' });
    const warned = await t.request('update', 'database/roles/app-lost', { db_name: 'missing', creation_statements: READONLY });
    assert.match(warned?.warnings?.[0] ?? '', /database "missing" is not configured/);
    await assert.rejects(t.request('read', 'database/creds/app-lost'), { message: /names database "missing", which is not configured/ });
    await assert.rejects(t.request('update', 'database/config/x', { plugin_name: 'nosuch', connection_url: 'x' }), { message: /unknown plugin_name/ });
    await assert.rejects(t.request('update', 'database/roles/app-x', { db_name: 'local' }), { message: 'creation_statements must be provided' });
  });

  it('answers a config that cannot connect with the database\'s reason, and saves nothing', async () => {
    const { t } = await setup();
    await assert.rejects(
      t.request('update', 'database/config/down', { plugin_name: 'postgresql-database-plugin', connection_url: 'postgresql://{{username}}:{{password}}@127.0.0.1:1/x?sslmode=disable', username: 'u', password: 'a-root-secret' }),
      (e: Error) => /error creating database object: postgresql: .*ECONNREFUSED/.test(e.message) && !e.message.includes('a-root-secret'),
    );
    assert.equal(await t.request('read', 'database/config/down'), null);
  });

  it('substitutes values safely: a password policy that could break out of a literal is refused', async () => {
    const { t } = await setup();
    await t.request('update', 'sys/policies/password/quotes', { policy: `length = 12\nrule "charset" {\n charset = "a'\\\\"\n min-chars = 1\n}` });
    await t.request('update', 'database/config/local', { password_policy: 'quotes' });
    await assert.rejects(t.request('read', 'database/creds/app-readonly'), { message: /generated password holds characters that are not allowed/ });
    // A username template that would leave the quoted identifier is refused before any statement runs.
    await t.request('update', 'sys/policies/password/quotes', { policy: 'length = 20\nrule "charset" {\n charset = "abcdefghij"\n}' });
    await t.request('update', 'database/config/local', { username_template: 'x"; DROP TABLE public.coffer_items; --{{random 4}}' });
    await assert.rejects(t.request('read', 'database/creds/app-readonly'), { message: /generated name holds characters that are not allowed/ });
    assert.equal((await query('SELECT count(*)::int AS n FROM public.coffer_items')).rows[0].n >= 1, true, 'the table is still there');
    await t.request('update', 'database/config/local', { username_template: '{{ printf "app-%s-%s" (.RoleName | truncate 8) (random 8) | lowercase }}' });
    const templated = await creds(t);
    assert.match(templated.username, /^app-app-read-[a-z0-9]{8}$/);
    await t.request('update', 'sys/leases/revoke', { lease_id: templated.leaseId, sync: true });
    await t.request('update', 'database/config/local', { username_template: '' });
    await t.request('update', 'sys/policies/password/safe', { policy: 'length = 30\nrule "charset" {\n charset = "abcdef0123"\n min-chars = 2\n}' });
    await t.request('update', 'database/config/local', { password_policy: 'safe' });
    const c = await creds(t);
    assert.match(c.password, /^[abcdef0123]{30}$/);
    await t.request('update', 'sys/leases/revoke', { lease_id: c.leaseId, sync: true });
  });
});

describe('database engine: passwords on a scram-sha-256 cluster', { skip }, () => {
  let scratch: ScratchPostgres;
  before(async () => {
    scratch = await ScratchPostgres.start();
  });
  after(async () => {
    await scratch?.destroy();
  });

  const login = (user: string, password: string) => query('SELECT current_user AS u', [], scratch.url(user, encodeURIComponent(password)));

  async function scratchCore() {
    const clock = new ManualClock(Date.now());
    const t = await newTestCore({ clock, revocation: { maxAttempts: 20, initialBackoff: 1, maxBackoff: 2 } });
    cores.push(t);
    await t.request('update', 'sys/mounts/database', { type: 'database' });
    await t.request('update', 'database/config/scratch', { plugin_name: 'postgresql-database-plugin', connection_url: scratch.url(), username: 'postgres', password: scratch.password, allowed_roles: '*' });
    return { t, clock };
  }

  it('issues a password the server accepts, refuses a wrong one, and refuses it after revocation', async () => {
    const { t } = await scratchCore();
    await t.request('update', 'database/roles/ro', { db_name: 'scratch', creation_statements: READONLY, default_ttl: '10m' });
    const c = await creds(t, 'ro');
    assert.equal((await login(c.username, c.password)).rows[0].u, c.username);
    await assert.rejects(login(c.username, `${c.password}x`), /password authentication failed/);
    await t.request('update', 'sys/leases/revoke', { lease_id: c.leaseId, sync: true });
    await assert.rejects(login(c.username, c.password), /password authentication failed|does not exist/);
  });

  it('rotates a static role\'s password on schedule: the old one stops working, the new one works', async () => {
    const { t, clock } = await scratchCore();
    await query(`DROP ROLE IF EXISTS app_static; CREATE ROLE app_static LOGIN PASSWORD 'known-to-a-human'`, [], scratch.url('postgres', scratch.password));
    await t.request('update', 'database/static-roles/app', { db_name: 'scratch', username: 'app_static', rotation_period: '1h' });
    await assert.rejects(login('app_static', 'known-to-a-human'), /password authentication failed/, 'after import only coffer knows it');
    const first = (await t.request('read', 'database/static-creds/app'))!.data!;
    assert.equal(first['ttl'], 3600);
    await login('app_static', String(first['password']));
    clock.advance(3599);
    await t.core.runPeriodic();
    assert.equal((await t.request('read', 'database/static-creds/app'))!.data!['password'], first['password']);
    clock.advance(1);
    await t.core.runPeriodic();
    const second = (await t.request('read', 'database/static-creds/app'))!.data!;
    assert.notEqual(second['password'], first['password']);
    await assert.rejects(login('app_static', String(first['password'])), /password authentication failed/);
    await login('app_static', String(second['password']));
    await t.request('update', 'database/rotate-role/app');
    const third = (await t.request('read', 'database/static-creds/app'))!.data!;
    await login('app_static', String(third['password']));
    await assert.rejects(login('app_static', String(second['password'])), /password authentication failed/);
  });

  it('retries a revocation while the database is down and removes the user once it is back', async () => {
    const { t, clock } = await scratchCore();
    await t.request('update', 'database/roles/ro', { db_name: 'scratch', creation_statements: READONLY, default_ttl: '1m' });
    const c = await creds(t, 'ro');
    await scratch.stopServer();
    try {
      clock.advance(60);
      await t.core.sweepExpiredLeases();
      const info = (await t.request('update', 'sys/leases/lookup', { lease_id: c.leaseId }))!.data!;
      assert.equal(info['revoke_attempts'], 1);
      assert.match(String(info['revoke_error']), /ECONNREFUSED|connect/);
      assert.ok(!String(info['revoke_error']).includes(scratch.password));
    } finally {
      await scratch.startServer();
    }
    clock.advance(2);
    await t.core.sweepExpiredLeases();
    await assert.rejects(t.request('update', 'sys/leases/lookup', { lease_id: c.leaseId }), { message: 'invalid lease' });
    assert.equal(await roleExists(c.username, scratch.url('postgres', scratch.password)), false);
  });

  it('rotate-root leaves a root password no human knows, and the engine keeps working', async () => {
    const { t } = await scratchCore();
    await query(`DROP ROLE IF EXISTS coffer_root; CREATE ROLE coffer_root LOGIN CREATEROLE PASSWORD 'root-known'`, [], scratch.url('postgres', scratch.password));
    await t.request('update', 'database/config/rooted', { plugin_name: 'postgresql-database-plugin', connection_url: scratch.url(), username: 'coffer_root', password: 'root-known', allowed_roles: '*' });
    await t.request('update', 'database/rotate-root/rooted');
    await assert.rejects(login('coffer_root', 'root-known'), /password authentication failed/);
    await t.request('update', 'database/roles/r2', { db_name: 'rooted', creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';` });
    const c = await creds(t, 'r2');
    await login(c.username, c.password);
  });
});
