import { definePath, field, genericName, type CompiledPath, type FieldValues, type PathContext } from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import { openConnection, pluginType, type Connections } from './connections.js';
import { listPath } from './path-list.js';
import { dbKeys, loadConfig, saveConfig, type DbConfig } from './db-store.js';
import { asRequestError } from './plugins/index.js';
import { checkStatementValues, splitStatements } from './statements.js';
import { compileUsernameTemplate } from './username-template.js';

const configFields = {
  name: field.string({ description: 'Name of the connection.', required: true }),
  plugin_name: field.string({ description: 'The database plugin, e.g. postgresql-database-plugin.' }),
  plugin_version: field.string({ description: 'Accepted for compatibility; plugins are built in.' }),
  verify_connection: field.bool({ description: 'Connect once before the config is saved.', default: true }),
  allowed_roles: field.strings({ description: 'Roles (names or globs) allowed to use this connection; "*" for all.' }),
  root_rotation_statements: field.stringSlice({ description: 'Statements that change the root password (rotate-root).' }),
  password_policy: field.string({ description: 'Password policy for generated passwords.' }),
  username_template: field.string({ description: 'Template for generated usernames.' }),
  connection_url: field.string({ description: 'Connection string with {{username}} and {{password}} placeholders.' }),
  username: field.string({ description: 'Root username, for {{username}}.' }),
  password: field.string({ description: 'Root password, for {{password}}; never returned.' }),
  max_open_connections: field.int({ description: 'Most open connections (default 4).', default: 4 }),
  max_idle_connections: field.int({ description: 'Most idle connections (default: max_open_connections).' }),
  max_connection_lifetime: field.durationSeconds({ description: 'Most time a connection is reused; 0 for no limit.' }),
  host: field.string({ description: 'Redis: host.' }),
  port: field.int({ description: 'Redis: port.', default: 6379 }),
  tls: field.bool({ description: 'Redis: use TLS.' }),
  insecure_tls: field.bool({ description: 'Redis: skip TLS certificate checks.' }),
  ca_cert: field.string({ description: 'Redis: PEM CA certificate for TLS.' }),
  disable_escaping: field.bool({ description: 'Accepted for compatibility; credentials in URLs are always encoded.' }),
};

type ConfigValues = FieldValues<typeof configFields>;

/** What a read shows: everything but the root password. */
function configData(c: DbConfig): Record<string, unknown> {
  return {
    plugin_name: c.plugin_name,
    plugin_version: c.plugin_version,
    verify_connection: c.verify_connection,
    allowed_roles: c.allowed_roles,
    root_credentials_rotate_statements: c.root_rotation_statements,
    password_policy: c.password_policy,
    connection_details: {
      ...c.connection_details,
      username: c.username,
      max_open_connections: c.max_open_connections,
      max_idle_connections: c.max_idle_connections,
      max_connection_lifetime: `${c.max_connection_lifetime}s`,
      ...(c.username_template ? { username_template: c.username_template } : {}),
    },
  };
}

async function verified(conns: Connections, name: string, config: DbConfig) {
  const conn = openConnection(name, config);
  if (config.verify_connection) {
    try {
      await conn.plugin.verify();
    } catch (e) {
      await conn.plugin.close().catch(() => {});
      throw asRequestError(e, 'error creating database object');
    }
  }
  conns.adopt(conn);
}

export function configPaths(conns: Connections): CompiledPath[] {
  const write = async (ctx: PathContext, d: ConfigValues) => {
    const old = await loadConfig(ctx.storage, d.name);
    const given = (k: keyof typeof configFields) => ctx.provided.has(k);
    const pluginName = given('plugin_name') ? d.plugin_name : old?.plugin_name ?? '';
    if (pluginName === '') throw badRequest('plugin_name must be provided');
    const type = pluginType(pluginName);
    if (given('username_template') && d.username_template) compileUsernameTemplate(d.username_template);
    if (given('max_open_connections') && d.max_open_connections < 1) throw badRequest('field "max_open_connections" must be at least 1');
    if (d.max_idle_connections < 0 || d.max_connection_lifetime < 0) throw badRequest('connection limits cannot be negative');
    const details: Record<string, unknown> = { ...(old?.connection_details ?? {}) };
    for (const k of type.connectionFields) if (given(k as keyof typeof configFields)) details[k] = d[k as keyof ConfigValues];
    const pick = <K extends keyof DbConfig & keyof ConfigValues>(k: K, fallback: DbConfig[K]): DbConfig[K] => (given(k) ? (d[k] as unknown as DbConfig[K]) : old ? old[k] : fallback);
    const maxOpen = pick('max_open_connections', 4);
    const config: DbConfig = {
      plugin_name: pluginName,
      plugin_version: pick('plugin_version', ''),
      verify_connection: d.verify_connection,
      allowed_roles: pick('allowed_roles', []),
      root_rotation_statements: pick('root_rotation_statements', []),
      password_policy: pick('password_policy', ''),
      username_template: pick('username_template', ''),
      connection_details: details,
      username: pick('username', ''),
      password: pick('password', ''),
      max_open_connections: maxOpen,
      max_idle_connections: given('max_idle_connections') ? d.max_idle_connections : old?.max_idle_connections || maxOpen,
      max_connection_lifetime: pick('max_connection_lifetime', 0),
    };
    await verified(conns, d.name, config);
    await saveConfig(ctx.storage, d.name, config);
    const warnings = config.allowed_roles.length === 0 ? ['no allowed_roles are set: no role can use this connection until some are'] : [];
    return warnings.length ? { warnings } : null;
  };

  return [
    listPath({ pattern: 'config', folder: 'config/', summary: 'List database connections.', description: 'Names of the configured connections.' }),
    definePath({
      pattern: `config/${genericName('name')}`,
      fields: configFields,
      existenceCheck: async (ctx) => (await loadConfig(ctx.storage, ctx.captures['name'] ?? '')) !== null,
      operations: {
        read: {
          summary: 'Read a connection (never its password).',
          handler: async (ctx, d) => {
            const c = await loadConfig(ctx.storage, d.name);
            return c ? { data: configData(c) } : null;
          },
        },
        create: { summary: 'Configure a connection.', handler: write },
        update: { summary: 'Configure a connection.', handler: write },
        delete: {
          summary: 'Delete a connection.',
          handler: async (ctx, d) => {
            await conns.close(d.name);
            await ctx.storage.delete(dbKeys.config(d.name));
            return null;
          },
        },
      },
      help: { synopsis: 'Configure a database connection.', description: 'Verified before it is saved unless verify_connection=false.' },
    }),
    definePath({
      pattern: `reset/${genericName('name')}`,
      fields: { name: configFields.name },
      operations: {
        update: {
          summary: 'Close and reopen a connection.',
          handler: async (ctx, d) => {
            const config = await loadConfig(ctx.storage, d.name);
            if (!config) throw badRequest(`unknown database "${d.name}"`);
            await conns.close(d.name);
            await verified(conns, d.name, config);
            return null;
          },
        },
      },
      help: { synopsis: 'Reset a connection.', description: 'Closes the pool and opens it again with the stored config.' },
    }),
    definePath({
      pattern: `rotate-root/${genericName('name')}`,
      fields: { name: configFields.name },
      operations: {
        update: {
          summary: 'Rotate the root password to one only coffer knows.',
          handler: async (ctx, d) => {
            const config = await loadConfig(ctx.storage, d.name);
            if (!config) throw badRequest(`unknown database "${d.name}"`);
            if (!config.username) throw badRequest('the connection has no username to rotate');
            const password = await ctx.system.generatePassword(config.password_policy);
            checkStatementValues({ password });
            const conn = await conns.get(d.name);
            try {
              await conn.plugin.updateUser({ username: config.username, password: { value: password, statements: splitStatements(config.root_rotation_statements) } });
            } catch (e) {
              throw asRequestError(e, 'failed to rotate root credentials');
            }
            const rotated: DbConfig = { ...config, password };
            await saveConfig(ctx.storage, d.name, rotated);
            await conns.close(d.name);
            await verified(conns, d.name, rotated);
            return null;
          },
        },
      },
      help: { synopsis: 'Rotate the root credentials.', description: 'Afterwards only coffer knows the password.' },
    }),
  ];
}
