import mysql from 'mysql2/promise';
import { badRequest } from '../../../logical/index.js';
import { formatExpiration, renderStatement, splitStatements } from '../statements.js';
import { DatabaseError, redact, type ConnectionConfig, type DatabasePlugin, type PluginType } from './plugin.js';

/** ER_CANNOT_USER: DROP USER of a user that does not exist (vault#6058: that is revoked, not an error). */
const ER_CANNOT_USER = 1396;

/**
 * A connection_url in Go's MySQL DSN form, as Vault takes it: `user:pass@tcp(host:port)/db?x=y`
 * (or `unix(/path)`), with {{username}} and {{password}} already filled in.
 */
export function parseMysqlDsn(dsn: string): mysql.PoolOptions {
  const at = dsn.lastIndexOf('@');
  const creds = at === -1 ? '' : dsn.slice(0, at);
  const rest = at === -1 ? dsn : dsn.slice(at + 1);
  const colon = creds.indexOf(':');
  const user = colon === -1 ? creds : creds.slice(0, colon);
  const password = colon === -1 ? '' : creds.slice(colon + 1);
  const m = /^(?:(tcp|unix)\(([^)]*)\))?\/([^?]*)(?:\?(.*))?$/.exec(rest);
  if (!m) throw badRequest('connection_url is not a MySQL DSN of the form user:password@tcp(host:port)/database');
  const [, net, addr = '', database = ''] = m;
  const options: mysql.PoolOptions = { user, password, ...(database ? { database } : {}) };
  if (net === 'unix') return { ...options, socketPath: addr };
  const [host, port] = addr.includes(':') ? [addr.slice(0, addr.lastIndexOf(':')), addr.slice(addr.lastIndexOf(':') + 1)] : [addr || '127.0.0.1', '3306'];
  const portNumber = Number(port);
  if (!Number.isSafeInteger(portNumber) || portNumber < 1 || portNumber > 65535) throw badRequest('connection_url has an invalid port');
  return { ...options, host, port: portNumber };
}

function errno(e: unknown): number {
  return typeof e === 'object' && e !== null && 'errno' in e && typeof e.errno === 'number' ? e.errno : 0;
}

class MysqlPlugin implements DatabasePlugin {
  readonly #pool: mysql.Pool;
  readonly #config: ConnectionConfig;

  constructor(config: ConnectionConfig) {
    this.#config = config;
    const url = config.connectionDetails['connection_url'];
    if (typeof url !== 'string' || url === '') throw badRequest('connection_url cannot be empty');
    const filled = url.replace(/\{\{\s*username\s*\}\}/g, config.username).replace(/\{\{\s*password\s*\}\}/g, config.password);
    this.#pool = mysql.createPool({
      ...parseMysqlDsn(filled),
      connectionLimit: config.maxOpenConnections,
      maxIdle: config.maxIdleConnections || config.maxOpenConnections,
      idleTimeout: config.maxConnectionLifetime > 0 ? config.maxConnectionLifetime * 1000 : 60_000,
      connectTimeout: 10_000,
      multipleStatements: false,
    });
    this.#pool.on('connection', (conn) => conn.on('error', () => {}));
  }

  #fail(e: unknown, secrets: readonly (string | undefined)[] = []): DatabaseError {
    const raw = e instanceof Error ? e.message : 'database error';
    return new DatabaseError(`mysql: ${redact(raw, [this.#config.password, ...secrets])}`);
  }

  async #run(statements: readonly string[], secrets: readonly (string | undefined)[]): Promise<void> {
    try {
      for (const s of statements) await this.#pool.query(s);
    } catch (e) {
      throw this.#fail(e, secrets);
    }
  }

  /** Every host this user exists for: clean-up and the default revocation remove each. */
  async #hosts(username: string): Promise<string[]> {
    try {
      const [rows] = await this.#pool.query<mysql.RowDataPacket[]>('SELECT Host FROM mysql.user WHERE User = ?', [username]);
      return rows.map((r) => String(r['Host']));
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async #dropEverywhere(username: string): Promise<void> {
    for (const host of await this.#hosts(username)) {
      try {
        await this.#pool.query('DROP USER IF EXISTS ?@?', [username, host]);
      } catch (e) {
        if (errno(e) !== ER_CANNOT_USER) throw this.#fail(e);
      }
    }
  }

  async verify(): Promise<void> {
    await this.#run(['SELECT 1'], []);
  }

  async newUser(req: Parameters<DatabasePlugin['newUser']>[0]): Promise<void> {
    const values = { name: req.username, username: req.username, password: req.password, expiration: formatExpiration(req.expiration) };
    try {
      await this.#run(splitStatements(req.statements).map((s) => renderStatement(s, values)), [req.password]);
    } catch (e) {
      // MySQL commits each DDL statement: undo by the rollback statements, else drop the user.
      if (req.rollbackStatements.length > 0) {
        await this.#run(splitStatements(req.rollbackStatements).map((s) => renderStatement(s, values)), [req.password]).catch(() => {});
      } else {
        await this.#dropEverywhere(req.username).catch(() => {});
      }
      throw e;
    }
  }

  async updateUser(req: Parameters<DatabasePlugin['updateUser']>[0]): Promise<void> {
    if (req.password) {
      const value = req.password.value;
      if (req.password.statements.length > 0) {
        const values = { name: req.username, username: req.username, password: value };
        await this.#run(splitStatements(req.password.statements).map((s) => renderStatement(s, values)), [value]);
      } else {
        const hosts = await this.#hosts(req.username);
        if (hosts.length === 0) throw new DatabaseError('mysql: the user does not exist');
        try {
          for (const host of hosts) await this.#pool.query('ALTER USER ?@? IDENTIFIED BY ?', [req.username, host, value]);
        } catch (e) {
          throw this.#fail(e, [value]);
        }
      }
    }
    // MySQL accounts have no expiry; renew statements run only when a role gives them.
    if (req.expiration && req.expiration.statements.length > 0) {
      const values = { name: req.username, username: req.username, expiration: formatExpiration(req.expiration.value) };
      await this.#run(splitStatements(req.expiration.statements).map((s) => renderStatement(s, values)), []);
    }
  }

  async deleteUser(req: Parameters<DatabasePlugin['deleteUser']>[0]): Promise<void> {
    if (req.statements.length === 0) return this.#dropEverywhere(req.username);
    if ((await this.#hosts(req.username)).length === 0) return; // already gone
    const values = { name: req.username, username: req.username };
    try {
      for (const s of splitStatements(req.statements)) await this.#pool.query(renderStatement(s, values));
    } catch (e) {
      if (errno(e) !== ER_CANNOT_USER) throw this.#fail(e);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

const mysqlType = (name: string, defaultUsernameTemplate: string): PluginType => ({
  name,
  defaultUsernameTemplate,
  connectionFields: ['connection_url'],
  requiresCreationStatements: true,
  open: (config) => new MysqlPlugin(config),
});

/** Vault's MySQL templates: 32 characters for MySQL 5.7+, 16 for the legacy, RDS and Aurora flavours. */
const MODERN = '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}';
const LEGACY = '{{ printf "v-%s-%s-%s" (.RoleName | truncate 4) (.DisplayName | truncate 4) (random 20) | truncate 16 }}';

export const mysqlPlugins: readonly PluginType[] = [
  mysqlType('mysql-database-plugin', MODERN),
  mysqlType('mysql-aurora-database-plugin', LEGACY),
  mysqlType('mysql-rds-database-plugin', LEGACY),
  mysqlType('mysql-legacy-database-plugin', LEGACY),
];
