import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { newTestCore, type TestCore } from '../../core/testing.js';
import { ManualClock } from '../../util/index.js';
import { serviceOrSkip } from './testing.js';

/** The machine's MariaDB: root with an empty password over TCP. MariaDB checks passwords, so logins here are real. */
const ROOT = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const skip = await serviceOrSkip('MariaDB at 127.0.0.1:3306', async () => (await mysql.createConnection(ROOT)).end());

async function asUser(user: string, password: string, sql: string) {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password, database: 'test' });
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

async function rootQuery(sql: string, params: unknown[] = []) {
  const c = await mysql.createConnection(ROOT);
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

const userExists = async (name: string) => ((await rootQuery('SELECT 1 FROM mysql.user WHERE User = ?', [name]))[0] as unknown[]).length > 0;

const CREATE = `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON test.* TO '{{name}}'@'%';`;

/** Every core a test made: sealed at the end, which closes its connection pools. */
const cores: TestCore[] = [];
after(async () => {
  for (const c of cores) await c.core.seal();
});

async function setup(plugin = 'mysql-database-plugin') {
  const clock = new ManualClock(Date.now());
  const t = await newTestCore({ clock });
  cores.push(t);
  await t.request('update', 'sys/mounts/database', { type: 'database' });
  await t.request('update', 'database/config/maria', {
    plugin_name: plugin,
    connection_url: '{{username}}:{{password}}@tcp(127.0.0.1:3306)/',
    username: 'root',
    password: '',
    allowed_roles: '*',
  });
  await t.request('update', 'database/roles/reader', { db_name: 'maria', creation_statements: CREATE, default_ttl: '1h' });
  return { t, clock };
}

describe('database engine: mysql plugins on MariaDB', { skip }, () => {
  before(async () => {
    await rootQuery('CREATE TABLE IF NOT EXISTS test.coffer_items (v varchar(20))');
  });
  after(async () => {
    const [rows] = await rootQuery("SELECT User, Host FROM mysql.user WHERE User LIKE 'v-%'");
    for (const r of rows as { User: string; Host: string }[]) await rootQuery('DROP USER IF EXISTS ?@?', [r.User, r.Host]);
  });

  it('issues a user whose password MariaDB accepts, who can read but not write, and who is gone after revoke', async () => {
    const { t } = await setup();
    const res = await t.request('read', 'database/creds/reader');
    const username = String(res!.data!['username']);
    const password = String(res!.data!['password']);
    assert.match(username, /^v-root-reader-[A-Za-z0-9]{10}/);
    assert.ok(username.length <= 32);
    await asUser(username, password, 'SELECT * FROM coffer_items');
    await assert.rejects(asUser(username, `${password}x`, 'SELECT 1'), /Access denied/);
    await assert.rejects(asUser(username, password, "INSERT INTO coffer_items VALUES ('no')"), /command denied/);
    await t.request('update', 'sys/leases/revoke', { lease_id: res!.lease!.id, sync: true });
    assert.equal(await userExists(username), false);
    await assert.rejects(asUser(username, password, 'SELECT 1'), /Access denied/);
  });

  it('keeps the legacy, RDS and Aurora usernames within 16 characters', async () => {
    for (const plugin of ['mysql-legacy-database-plugin', 'mysql-rds-database-plugin', 'mysql-aurora-database-plugin']) {
      const { t } = await setup(plugin);
      const res = await t.request('read', 'database/creds/reader');
      const username = String(res!.data!['username']);
      assert.ok(username.length <= 16, `${plugin}: ${username}`);
      await asUser(username, String(res!.data!['password']), 'SELECT 1');
      await t.request('update', 'sys/leases/revoke', { lease_id: res!.lease!.id, sync: true });
    }
  });

  it('counts a user already gone as revoked (vault#6058, error 1396)', async () => {
    const { t } = await setup();
    await t.request('update', 'database/roles/stmts', { db_name: 'maria', creation_statements: CREATE, revocation_statements: "DROP USER '{{name}}'@'%';" });
    const res = await t.request('read', 'database/creds/stmts');
    await rootQuery('DROP USER ?@?', [res!.data!['username'], '%']);
    await t.request('update', 'sys/leases/revoke', { lease_id: res!.lease!.id, sync: true });
    assert.equal((await t.request('read', 'sys/leases/count', { type: 'irrevocable' }))?.data?.['lease_count'], 0);
    await assert.rejects(t.request('update', 'sys/leases/lookup', { lease_id: res!.lease!.id }), { message: 'invalid lease' });
  });

  it('drops what a half-way creation made (MySQL commits each DDL statement)', async () => {
    const { t } = await setup();
    await t.request('update', 'database/roles/broken', { db_name: 'maria', creation_statements: `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON test.no_such_table TO '{{name}}'@'%';` });
    const [before] = await rootQuery("SELECT count(*) AS n FROM mysql.user WHERE User LIKE 'v-root-broken-%'");
    await assert.rejects(t.request('read', 'database/creds/broken'), { message: /failed to create the database user: mysql: .*no_such_table/ });
    const [afterRows] = await rootQuery("SELECT count(*) AS n FROM mysql.user WHERE User LIKE 'v-root-broken-%'");
    assert.deepEqual(afterRows, before);
  });

  it('rotates a static role: the old password stops working, the new one works', async () => {
    const { t, clock } = await setup();
    await rootQuery("DROP USER IF EXISTS 'coffer_static'@'%'");
    await rootQuery("CREATE USER 'coffer_static'@'%' IDENTIFIED BY 'human-known-pw'");
    await rootQuery("GRANT SELECT ON test.* TO 'coffer_static'@'%'");
    try {
      await t.request('update', 'database/static-roles/app', { db_name: 'maria', username: 'coffer_static', rotation_period: '10m' });
      await assert.rejects(asUser('coffer_static', 'human-known-pw', 'SELECT 1'), /Access denied/);
      const first = String((await t.request('read', 'database/static-creds/app'))!.data!['password']);
      await asUser('coffer_static', first, 'SELECT 1');
      clock.advance(600);
      await t.core.runPeriodic();
      const second = String((await t.request('read', 'database/static-creds/app'))!.data!['password']);
      assert.notEqual(second, first);
      await assert.rejects(asUser('coffer_static', first, 'SELECT 1'), /Access denied/);
      await asUser('coffer_static', second, 'SELECT 1');
    } finally {
      await rootQuery("DROP USER IF EXISTS 'coffer_static'@'%'");
    }
  });

  it('refuses a connection_url that is not a MySQL DSN, naming the field', async () => {
    const { t } = await setup();
    await assert.rejects(t.request('update', 'database/config/bad', { plugin_name: 'mysql-database-plugin', connection_url: 'mysql://root@127.0.0.1' }), { message: /connection_url is not a MySQL DSN/ });
  });
});
