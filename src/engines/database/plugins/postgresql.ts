import pg from 'pg';
import { badRequest } from '../../../logical/index.js';
import { formatExpiration, renderStatement, splitStatements } from '../statements.js';
import { DatabaseError, redact, type ConnectionConfig, type DatabasePlugin, type PluginType } from './plugin.js';

/** SQLSTATEs a retry can cure: concurrent catalog updates (concurrent GRANTs), serialization, deadlock. */
const TRANSIENT = new Set(['XX000', '40001', '40P01']);
const RETRIES = 8;

/**
 * Statements that rewrite a catalog row many transactions share (a table's ACL): PostgreSQL
 * refuses two of them at once with "tuple concurrently updated" (measured on one machine: 74%
 * of creations failed at 8 in flight). So at most CATALOG_WRITERS transactions holding such a
 * statement run at once from one connection (the rest queue in coffer): two overlap one's
 * CREATE ROLE and its password hashing with the other's GRANT, and seldom collide. A refused
 * transaction is retried under this advisory lock, which queues retries across every coffer
 * server using the database, so they cannot keep refusing each other.
 */
const SHARED_CATALOG = /^\s*(GRANT|REVOKE|ALTER\s+DEFAULT\s+PRIVILEGES|DROP\s+OWNED|REASSIGN\s+OWNED)\b/i;
const ACL_LOCK_KEY = '7161405935104353138'; // an arbitrary constant bigint, coffer's own
const CATALOG_WRITERS = 2;

/** A double-quoted identifier (names are from a safe alphabet already; this is the second fence). */
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function sqlState(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : '';
}

/** The connection string with the root credentials put in, URL-encoded where it is a URL. */
export function connectionString(config: ConnectionConfig): string {
  const url = config.connectionDetails['connection_url'];
  if (typeof url !== 'string' || url === '') throw badRequest('connection_url cannot be empty');
  const isUrl = /^postgres(ql)?:\/\//.test(url);
  const enc = (v: string) => (isUrl ? encodeURIComponent(v) : v);
  return url.replace(/\{\{\s*username\s*\}\}/g, enc(config.username)).replace(/\{\{\s*password\s*\}\}/g, enc(config.password));
}

class PostgresPlugin implements DatabasePlugin {
  readonly #pool: pg.Pool;
  readonly #config: ConnectionConfig;
  /** Transactions with a shared-catalog statement running, and those waiting to. */
  #catalogWriters = 0;
  readonly #catalogQueue: (() => void)[] = [];

  constructor(config: ConnectionConfig) {
    this.#config = config;
    this.#pool = new pg.Pool({
      connectionString: connectionString(config),
      max: config.maxOpenConnections,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      ...(config.maxConnectionLifetime > 0 ? { maxLifetimeSeconds: config.maxConnectionLifetime } : {}),
    });
    // An idle client losing its connection must not take the server down; the next query reconnects.
    this.#pool.on('error', () => {});
  }

  #fail(e: unknown, secrets: readonly (string | undefined)[] = []): DatabaseError {
    const raw = e instanceof Error ? e.message : 'database error';
    let message = redact(raw, [this.#config.password, ...secrets]);
    if (sqlState(e) === '2BP01') {
      message += ' (the revocation statements must first take away what the role holds, e.g. REASSIGN OWNED BY "{{name}}" TO CURRENT_USER; DROP OWNED BY "{{name}}"; before DROP ROLE: see docs/database.md)';
    }
    return new DatabaseError(`postgresql: ${message}`);
  }

  /** Run statements in one transaction, retrying the whole of it on a transient error. */
  async #transaction(statements: readonly string[], secrets: readonly (string | undefined)[]): Promise<void> {
    if (!statements.some((s) => SHARED_CATALOG.test(s))) return this.#attempts(statements, secrets, false);
    if (this.#catalogWriters >= CATALOG_WRITERS) await new Promise<void>((resolve) => this.#catalogQueue.push(resolve));
    else this.#catalogWriters++;
    try {
      return await this.#attempts(statements, secrets, true);
    } finally {
      // A finishing transaction hands its place straight to the next in line.
      const next = this.#catalogQueue.shift();
      if (next) next();
      else this.#catalogWriters--;
    }
  }

  async #attempts(statements: readonly string[], secrets: readonly (string | undefined)[], sharedCatalog: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (e) {
        throw this.#fail(e, secrets);
      }
      try {
        await client.query('BEGIN');
        if (sharedCatalog && attempt > 1) await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [ACL_LOCK_KEY]);
        for (const s of statements) await client.query(s);
        await client.query('COMMIT');
        client.release();
        return;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        client.release();
        if (attempt < RETRIES && TRANSIENT.has(sqlState(e))) {
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        throw this.#fail(e, secrets);
      }
    }
  }

  async #exists(username: string): Promise<boolean> {
    try {
      const res = await this.#pool.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [username]);
      return (res.rowCount ?? 0) > 0;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async verify(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async newUser(req: Parameters<DatabasePlugin['newUser']>[0]): Promise<void> {
    const values = { name: req.username, username: req.username, password: req.password, expiration: formatExpiration(req.expiration) };
    const statements = splitStatements(req.statements).map((s) => renderStatement(s, values));
    try {
      await this.#transaction(statements, [req.password]);
    } catch (e) {
      // The transaction left nothing behind; rollback statements undo what lives outside it.
      if (req.rollbackStatements.length > 0) {
        const rollback = splitStatements(req.rollbackStatements).map((s) => renderStatement(s, values));
        await this.#transaction(rollback, [req.password]).catch(() => {});
      }
      throw e;
    }
  }

  async updateUser(req: Parameters<DatabasePlugin['updateUser']>[0]): Promise<void> {
    const statements: string[] = [];
    if (req.password) {
      const given = req.password.statements.length ? req.password.statements : [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`];
      statements.push(...splitStatements(given).map((s) => renderStatement(s, { name: req.username, username: req.username, password: req.password!.value })));
    }
    if (req.expiration) {
      const given = req.expiration.statements.length ? req.expiration.statements : [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];
      const expiration = formatExpiration(req.expiration.value);
      statements.push(...splitStatements(given).map((s) => renderStatement(s, { name: req.username, username: req.username, expiration })));
    }
    if (statements.length) await this.#transaction(statements, [req.password?.value]);
  }

  async deleteUser(req: Parameters<DatabasePlugin['deleteUser']>[0]): Promise<void> {
    // Idempotent: a role that is gone is revoked (vault#6058).
    if (!(await this.#exists(req.username))) return;
    if (req.statements.length > 0) {
      const values = { name: req.username, username: req.username };
      await this.#transaction(splitStatements(req.statements).map((s) => renderStatement(s, values)), []);
      return;
    }
    // The default needs no schema of any name (vault#13258): what the role owns goes to the
    // connecting user, its privileges in this database go, then the role.
    const name = ident(req.username);
    await this.#transaction([`REASSIGN OWNED BY ${name} TO CURRENT_USER`, `DROP OWNED BY ${name}`, `DROP ROLE IF EXISTS ${name}`], []);
    // Sessions it already has are ended too: a revoked credential keeps no open connection.
    await this.#pool.query('SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1', [req.username]).catch(() => {});
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

export const postgresqlPlugin: PluginType = {
  name: 'postgresql-database-plugin',
  defaultUsernameTemplate: '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}',
  connectionFields: ['connection_url'],
  requiresCreationStatements: true,
  open: (config) => new PostgresPlugin(config),
};
