import { Redis } from 'ioredis';
import { badRequest } from '../../../logical/index.js';
import { DatabaseError, redact, type ConnectionConfig, type DatabasePlugin, type PluginType } from './plugin.js';

/**
 * A role's creation statements for Redis are ACL rules, as in Vault: a JSON list
 * (`["~*", "+@read"]`), which the comma-split of a string field has cut apart and joining
 * restores, or plain rules.
 */
export function aclRules(statements: readonly string[]): string[] {
  const joined = statements.join(',').trim();
  if (joined.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(joined);
    } catch {
      throw badRequest('creation_statements: not a JSON list of ACL rules');
    }
    if (!Array.isArray(parsed) || !parsed.every((r) => typeof r === 'string')) throw badRequest('creation_statements: not a JSON list of ACL rules');
    return parsed.flatMap((r) => r.split(/\s+/)).filter((r) => r !== '');
  }
  return statements.flatMap((s) => s.split(/\s+/)).filter((r) => r !== '');
}

class RedisPlugin implements DatabasePlugin {
  readonly #client: Redis;
  readonly #config: ConnectionConfig;

  constructor(config: ConnectionConfig) {
    this.#config = config;
    const d = config.connectionDetails;
    const host = typeof d['host'] === 'string' ? d['host'] : '';
    const port = Number(d['port'] ?? 6379);
    if (host === '') throw badRequest('host cannot be empty');
    if (!Number.isSafeInteger(port) || port < 1 || port > 65535) throw badRequest('field "port" must be a port number');
    const tls = d['tls'] === true;
    this.#client = new Redis({
      host,
      port,
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 10_000,
      retryStrategy: (times) => (times > 3 ? null : 200 * times),
      ...(tls ? { tls: { rejectUnauthorized: d['insecure_tls'] !== true, ...(typeof d['ca_cert'] === 'string' && d['ca_cert'] ? { ca: d['ca_cert'] } : {}) } } : {}),
    });
    this.#client.on('error', () => {});
  }

  async #call(args: readonly string[], secrets: readonly (string | undefined)[]): Promise<unknown> {
    try {
      if (this.#client.status === 'wait' || this.#client.status === 'end') await this.#client.connect().catch(() => {});
      return await this.#client.call(args[0]!, ...args.slice(1));
    } catch (e) {
      const raw = e instanceof Error ? e.message : 'redis error';
      throw new DatabaseError(`redis: ${redact(raw, [this.#config.password, ...secrets])}`);
    }
  }

  async verify(): Promise<void> {
    await this.#call(['PING'], []);
  }

  async newUser(req: Parameters<DatabasePlugin['newUser']>[0]): Promise<void> {
    // One command: the user exists with its rules and password, or not at all. The password is
    // an argument of its own, so nothing in it can be read as a rule.
    await this.#call(['ACL', 'SETUSER', req.username, 'on', `>${req.password}`, ...aclRules(req.statements)], [req.password]);
  }

  async updateUser(req: Parameters<DatabasePlugin['updateUser']>[0]): Promise<void> {
    if (req.password) {
      // resetpass drops the old password in the same command that adds the new one.
      await this.#call(['ACL', 'SETUSER', req.username, 'resetpass', `>${req.password.value}`], [req.password.value]);
    }
    // Redis users have no expiry: renewing changes nothing there.
  }

  async deleteUser(req: Parameters<DatabasePlugin['deleteUser']>[0]): Promise<void> {
    await this.#call(['ACL', 'DELUSER', req.username], []); // 0 for a user already gone
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}

export const redisPlugin: PluginType = {
  name: 'redis-database-plugin',
  defaultUsernameTemplate: '{{ printf "V_%s_%s_%s_%s" (.DisplayName | uppercase | truncate 64) (.RoleName | uppercase | truncate 64) (random 20 | uppercase) (unix_time) | truncate 100 }}',
  connectionFields: ['host', 'port', 'tls', 'insecure_tls', 'ca_cert'],
  requiresCreationStatements: true,
  open: (config) => new RedisPlugin(config),
};
