import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newTestCore, type TestCore } from '../../core/testing.js';
import { ManualClock } from '../../util/index.js';
import { serviceOrSkip } from './testing.js';

/** The machine's Redis 7: ACL users are real, and AUTH checks their passwords. */
const skip = await serviceOrSkip('Redis at 127.0.0.1:6379', async () => {
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
});

/** A fresh connection that authenticates as user (AUTH answers WRONGPASS for a bad password). */
async function as(user: string, password: string, fn: (r: Redis) => Promise<unknown>) {
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.call('AUTH', user, password);
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const admin = () => new Redis({ host: '127.0.0.1', port: 6379 });

/** Every core a test made: sealed at the end, which closes its connection pools. */
const cores: TestCore[] = [];
after(async () => {
  for (const c of cores) await c.core.seal();
});

async function setup() {
  const clock = new ManualClock(Date.now());
  const t = await newTestCore({ clock });
  cores.push(t);
  await t.request('update', 'sys/mounts/database', { type: 'database' });
  await t.request('update', 'database/config/cache', { plugin_name: 'redis-database-plugin', host: '127.0.0.1', port: 6379, allowed_roles: '*' });
  await t.request('update', 'database/roles/reader', { db_name: 'cache', creation_statements: '["~*", "+@read"]', default_ttl: '1h' });
  return { t, clock };
}

describe('database engine: redis-database-plugin', { skip }, () => {
  after(async () => {
    const r = admin();
    const users = (await r.call('ACL', 'USERS')) as string[];
    for (const u of users) if (u.startsWith('V_ROOT_') || u === 'coffer_static') await r.call('ACL', 'DELUSER', u);
    r.disconnect();
  });

  it('issues an ACL user that can read but not write, and deletes it on revoke', async () => {
    const { t } = await setup();
    const res = await t.request('read', 'database/creds/reader');
    const username = String(res!.data!['username']);
    const password = String(res!.data!['password']);
    assert.match(username, /^V_ROOT_READER_[A-Z0-9]{20}_\d{10}$/);
    await as(username, password, (r) => r.get('coffer-key'));
    await assert.rejects(as(username, password, (r) => r.set('coffer-key', 'x')), /NOPERM/);
    await assert.rejects(as(username, `${password}x`, (r) => r.ping()), /WRONGPASS/);
    await t.request('update', 'sys/leases/revoke', { lease_id: res!.lease!.id, sync: true });
    await assert.rejects(as(username, password, (r) => r.ping()), /WRONGPASS/);
    // Revoking again is a no-op, not an error.
    await t.request('update', 'sys/leases/revoke', { lease_id: res!.lease!.id, sync: true });
  });

  it('rotates a static role\'s password; the old one stops working', async () => {
    const { t, clock } = await setup();
    const r = admin();
    await r.call('ACL', 'SETUSER', 'coffer_static', 'on', '>human-known', '~*', '+@read', '+ping');
    r.disconnect();
    await t.request('update', 'database/static-roles/app', { db_name: 'cache', username: 'coffer_static', rotation_period: '5m' });
    await assert.rejects(as('coffer_static', 'human-known', (c) => c.ping()), /WRONGPASS/);
    const first = String((await t.request('read', 'database/static-creds/app'))!.data!['password']);
    await as('coffer_static', first, (c) => c.ping());
    clock.advance(300);
    await t.core.runPeriodic();
    const second = String((await t.request('read', 'database/static-creds/app'))!.data!['password']);
    assert.notEqual(first, second);
    await assert.rejects(as('coffer_static', first, (c) => c.ping()), /WRONGPASS/);
    await as('coffer_static', second, (c) => c.ping());
  });
});
