import autocannon from 'autocannon';
import pg from 'pg';
import { api, startServerProcess, tempDir, unsealWith, waitFor } from '../e2e/server-process.js';
import { rssMb, stop } from './common.js';

/**
 * The lease and database figures of `npm run bench`: dynamic PostgreSQL credentials per second
 * at 16 clients beside the same statements run straight through pg; the time to revoke 10,000
 * expired leases (no-op statements) with peak RSS; RSS with 1,000 and with 250,000 leases; and
 * restart + unseal time with them. The servers run on CPU 0, like the read benchmark's.
 */
const LOCAL = 'postgresql://postgres@127.0.0.1:5432/test?sslmode=disable';
const CLIENTS = 16;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
/**
 * Credentials per (d) run. Each live role holds an entry in the bench table's ACL, which
 * PostgreSQL keeps in one catalog row of at most 8 kB: about 2,400 roles fit. So the runs are
 * counted, not timed, and the roles are dropped between them.
 */
const CREDS = 1_500;
const MANY = Number(process.env['BENCH_LEASES'] ?? 250_000);
const EXPIRING = 10_000;
/** The bench's own schema and table, so the GRANT has a table to write whatever else is in the database. */
const SCHEMA = 'coffer_bench';
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO "{{name}}";`;
const REVOKE = `REVOKE ALL ON ALL TABLES IN SCHEMA ${SCHEMA} FROM "{{name}}"; DROP ROLE IF EXISTS "{{name}}";`;

async function createBenchTable(): Promise<void> {
  const c = new pg.Client(LOCAL);
  await c.connect();
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}; CREATE TABLE IF NOT EXISTS ${SCHEMA}.items (id integer)`);
  await c.end();
}

async function dropBenchRoles(prefix: string): Promise<void> {
  const c = new pg.Client(LOCAL);
  await c.connect();
  const { rows } = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`${prefix}%`]);
  for (const r of rows) await c.query(`DROP OWNED BY "${r.rolname}"; DROP ROLE "${r.rolname}"`);
  await c.end();
}

/**
 * CREATE ROLE … PASSWORD + GRANT straight through pg, CREDS of them `clients` at a time,
 * retrying what PostgreSQL refuses under concurrency; with `lock`, the GRANT waits for an
 * advisory lock. The bare figure is the best of these ways of running them.
 */
async function bareRate(clients: number, lock = false): Promise<number> {
  const pool = new pg.Pool({ connectionString: LOCAL, max: clients });
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (n < CREDS) {
        const name = `bench-bare-${process.pid}-${n++}`;
        const client = await pool.connect();
        try {
          // A failure that lasts (a table's ACL full of roles an interrupted run left) ends the run.
          for (let attempt = 0; ; attempt++) {
            try {
              await client.query('BEGIN');
              await client.query(`CREATE ROLE "${name}" WITH LOGIN PASSWORD 'Abcdefghij-0123456789' VALID UNTIL '2100-01-01 00:00:00+0000'`);
              if (lock) await client.query('SELECT pg_advisory_xact_lock(1)');
              await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO "${name}"`);
              await client.query('COMMIT');
              break;
            } catch (e) {
              await client.query('ROLLBACK');
              if (attempt >= 100) throw new Error(`CREATE ROLE keeps failing: ${(e as Error).message}`);
            }
          }
        } finally {
          client.release();
        }
      }
    }),
  );
  const rate = n / ((performance.now() - t0) / 1000);
  await pool.end();
  await dropBenchRoles('bench-bare-');
  return rate;
}

export async function leaseBench(): Promise<string[]> {
  const probe = new pg.Client(LOCAL);
  try {
    await probe.connect();
    await probe.end();
  } catch {
    return ['leases and database: not run (PostgreSQL at 127.0.0.1:5432 is not reachable)'];
  }
  // Roles an interrupted run left behind: each holds a grant, and enough of them overflow the
  // tables' ACLs ("row is too big"), after which no GRANT succeeds.
  await dropBenchRoles('bench-bare-');
  await dropBenchRoles('v-root-bench-');
  await createBenchTable();
  const dir = tempDir('coffer-bench-leases-');
  let server = await startServerProcess(dir, undefined, { pin: 0 });
  const init = await api(server.url, 'sys/init', { method: 'PUT', body: { secret_shares: 5, secret_threshold: 3 } });
  const keys = init.body!['keys'] as string[];
  const root = String(init.body!['root_token']);
  await unsealWith(server.url, keys.slice(0, 3));
  const call = (path: string, body?: unknown) => api(server.url, path, { token: root, ...(body === undefined ? {} : { body }) });
  await call('sys/mounts/database', { type: 'database' });
  await call('database/config/local', {
    plugin_name: 'postgresql-database-plugin', connection_url: 'postgresql://{{username}}@127.0.0.1:5432/test?sslmode=disable',
    username: 'postgres', password: 'x', allowed_roles: '*', max_open_connections: CLIENTS,
  });
  await call('database/roles/bench', { db_name: 'local', creation_statements: CREATE, revocation_statements: REVOKE, default_ttl: '1h' });
  // No-op statements: what is measured is coffer's lease work, not the database's.
  await call('database/roles/noop', { db_name: 'local', creation_statements: 'SELECT 1', revocation_statements: 'SELECT 1', default_ttl: '768h' });
  await call('database/roles/expiring', { db_name: 'local', creation_statements: 'SELECT 1', revocation_statements: 'SELECT 1', default_ttl: '30s' });
  const creds = (role: string, opts: { amount?: number; duration?: number; connections: number }) =>
    autocannon({ url: `${server.url}/v1/database/creds/${role}`, headers: { 'x-vault-token': root }, connections: opts.connections, ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? SECONDS }) });

  // (d) Dynamic credentials at 16 clients, and the bare statements: serially and in parallel.
  const revokeBench = async () => {
    await call('sys/leases/revoke-prefix/database/creds/bench', { sync: true });
    await dropBenchRoles('v-root-bench-');
  };
  await creds('bench', { amount: 300, connections: CLIENTS }); // warm-up
  await revokeBench();
  const dyn = await creds('bench', { amount: CREDS, connections: CLIENTS });
  const dynRate = dyn['2xx'] / dyn.duration;
  await revokeBench();
  const bare = { 1: await bareRate(1), 2: await bareRate(2), 16: await bareRate(16), locked: await bareRate(16, true) };
  const bestBare = Math.max(...Object.values(bare));

  // (e) RSS with 1,000 leases, then with MANY, and restart + unseal with them.
  await creds('noop', { amount: 1000, connections: 64 });
  const rss1k = rssMb(server.proc.pid!);
  const fill = await creds('noop', { amount: MANY - 1000, connections: 64 });
  const rssMany = rssMb(server.proc.pid!);

  // (f) 10,000 leases that expire while the server is down, revoked at unseal.
  const issued = performance.now();
  const exp = await creds('expiring', { amount: EXPIRING, connections: 64 });
  await stop(server);
  const downFor = 30_000 - (performance.now() - issued) + 1000;
  if (downFor > 0) await new Promise((r) => setTimeout(r, downFor));
  const t0 = performance.now();
  server = await startServerProcess(dir, server.port, { pin: 0 });
  await unsealWith(server.url, keys.slice(2, 5));
  const unsealMs = performance.now() - t0;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.proc.pid!))), 50);
  await waitFor('the expired leases to be revoked', async () => (await api(server.url, 'sys/leases/lookup/database/creds/expiring/', { method: 'LIST', token: root })).status === 404, 120_000);
  const revokeMs = performance.now() - t0 - unsealMs;
  clearInterval(sampler);
  await waitFor('a creds read after unseal', async () => (await api(server.url, 'database/creds/noop', { token: root })).status === 200);
  const rssRestarted = rssMb(server.proc.pid!);
  await stop(server);
  await dropBenchRoles('v-root-bench-');

  const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return [
    `(d) dynamic PostgreSQL credentials, ${fmt(CREDS)} at ${CLIENTS} clients: ${fmt(dynRate)}/s (${dyn.non2xx + dyn.errors} failed), p99 ${dyn.latency.p99} ms; ` +
      `the same CREATE ROLE … PASSWORD + GRANT through pg: ${fmt(bare[1])}/s serially, ${fmt(bare[2])}/s at 2, ${fmt(bare[16])}/s at 16 (retrying refusals), ${fmt(bare.locked)}/s at 16 with an advisory lock around the GRANT; ` +
      `coffer is ${((dynRate / bestBare) * 100).toFixed(1)}% of the best (goal: at least 70%)`,
    `(e) RSS with 1,000 leases ${rssMany > 0 ? rss1k.toFixed(0) : '?'} MB, with ${fmt(1000 + fill['2xx'])} leases ${rssMany.toFixed(0)} MB (${(rssMany / rss1k).toFixed(2)}×; goal: at most 2×; ${fill.non2xx + fill.errors} failed)`,
    `(f) ${fmt(exp['2xx'])} leases expired while the server was down: restart + unseal ${(unsealMs / 1000).toFixed(2)} s with ${fmt(1000 + fill['2xx'] + exp['2xx'])} leases stored; ` +
      `all revoked ${(revokeMs / 1000).toFixed(2)} s after unseal (goal: at most 10 s), peak RSS ${peak.toFixed(0)} MB, RSS afterwards ${rssRestarted.toFixed(0)} MB`,
  ];
}
