import { defineSecret, definePath, field, genericName, type CompiledPath, type FieldValues, type PathContext, type SecretContext } from '../../framework/index.js';
import { CofferError, badRequest, putJSON } from '../../logical/index.js';
import type { Connections } from './connections.js';
import { listPath } from './path-list.js';
import { dbKeys, loadConfig, loadRole, roleAllowed, type DynamicRole } from './db-store.js';
import { asRequestError } from './plugins/index.js';
import { checkStatementValues, splitStatements } from './statements.js';

const roleFields = {
  name: field.string({ description: 'Name of the role.', required: true }),
  db_name: field.string({ description: 'The connection (config/:name) the role uses.' }),
  creation_statements: field.stringSlice({ description: 'Statements that create the user; {{name}}, {{password}}, {{expiration}}.' }),
  revocation_statements: field.stringSlice({ description: 'Statements that remove the user; the plugin\'s default when empty.' }),
  rollback_statements: field.stringSlice({ description: 'Statements that undo a creation that failed half-way.' }),
  renew_statements: field.stringSlice({ description: 'Statements that extend the user\'s expiry.' }),
  default_ttl: field.durationSeconds({ description: 'TTL of the credentials; the mount\'s default when 0.' }),
  max_ttl: field.durationSeconds({ description: 'Most TTL, renewals included; the mount\'s max when 0.' }),
  credential_type: field.string({ description: 'Only "password".', default: 'password' }),
  credential_config: field.map({ description: 'Accepted for compatibility.' }),
};

function roleData(r: DynamicRole): Record<string, unknown> {
  return {
    db_name: r.db_name,
    creation_statements: r.creation_statements,
    revocation_statements: r.revocation_statements,
    rollback_statements: r.rollback_statements,
    renew_statements: r.renew_statements,
    default_ttl: r.default_ttl,
    max_ttl: r.max_ttl,
    credential_type: r.credential_type,
    credential_config: {},
  };
}

/** The "creds" secret: a dynamic user, revoked with the role's revocation statements. */
export function credsSecret(conns: Connections) {
  const statementsFor = async (ctx: SecretContext): Promise<{ db: string; role: DynamicRole | null }> => {
    const db = String(ctx.internalData['db_name'] ?? '');
    return { db, role: await loadRole(ctx.storage, String(ctx.internalData['role'] ?? '')) };
  };
  return defineSecret({
    type: 'creds',
    renew: async (ctx) => {
      const { db, role } = await statementsFor(ctx);
      if (!role) throw badRequest('the role of this lease no longer exists: its credentials cannot be renewed');
      const { ttl, expireTime, warnings } = ctx.ttlWithin({ ttl: role.default_ttl, maxTtl: role.max_ttl });
      const conn = await conns.get(db);
      try {
        await conn.plugin.updateUser({ username: String(ctx.internalData['username']), expiration: { value: expireTime, statements: role.renew_statements } });
      } catch (e) {
        throw asRequestError(e, 'failed to renew the database user');
      }
      return { ttl, warnings };
    },
    revoke: async (ctx) => {
      const { db, role } = await statementsFor(ctx);
      // The role's current statements, so an operator can fix a failing one and the retry uses
      // it; those captured at issue when the role has gone since.
      const captured = ctx.internalData['revocation_statements'];
      const statements = role ? role.revocation_statements : Array.isArray(captured) ? captured.map(String) : [];
      const conn = await conns.get(db);
      await conn.plugin.deleteUser({ username: String(ctx.internalData['username']), statements });
    },
  });
}

export function rolePaths(conns: Connections): CompiledPath[] {
  return [
    listPath({ pattern: 'roles', folder: 'role/', summary: 'List dynamic roles.', description: 'Names of the roles.' }),
    definePath({
      pattern: `roles/${genericName('name')}`,
      fields: roleFields,
      existenceCheck: async (ctx) => (await loadRole(ctx.storage, ctx.captures['name'] ?? '')) !== null,
      operations: {
        read: {
          summary: 'Read a role.',
          handler: async (ctx, d) => {
            const r = await loadRole(ctx.storage, d.name);
            return r ? { data: roleData(r) } : null;
          },
        },
        create: { summary: 'Write a role.', handler: (ctx, d) => writeRole(ctx, d) },
        update: { summary: 'Write a role.', handler: (ctx, d) => writeRole(ctx, d) },
        delete: {
          summary: 'Delete a role.',
          handler: async (ctx, d) => {
            await ctx.storage.delete(dbKeys.role(d.name));
            return null;
          },
        },
      },
      help: { synopsis: 'Manage dynamic roles.', description: 'A role says how a database user is created and removed.' },
    }),
    definePath({
      pattern: `creds/${genericName('name')}`,
      fields: { name: roleFields.name },
      operations: {
        read: {
          summary: 'Create a database user with a lease.',
          handler: async (ctx, d) => {
            const role = await loadRole(ctx.storage, d.name);
            if (!role) throw badRequest(`unknown role: ${d.name}`);
            const config = await loadConfig(ctx.storage, role.db_name);
            if (!config) throw badRequest(`role "${d.name}" names database "${role.db_name}", which is not configured`);
            if (!roleAllowed(config, d.name)) throw badRequest(`"${d.name}" is not an allowed role`);
            const conn = await conns.get(role.db_name);
            const now = ctx.system.clock.now();
            const maxTtl = Math.min(role.max_ttl || Infinity, ctx.system.maxLeaseTtl());
            const ttl = Math.min(role.default_ttl || ctx.system.defaultLeaseTtl(), maxTtl);
            const displayName = ctx.req.caller?.displayName ?? 'token';
            const username = conn.usernames.render({ DisplayName: displayName, RoleName: d.name }, now);
            const password = await ctx.system.generatePassword(config.password_policy);
            checkStatementValues({ name: username, password });
            try {
              await conn.plugin.newUser({
                username,
                password,
                expiration: now + ttl * 1000,
                statements: role.creation_statements,
                rollbackStatements: role.rollback_statements,
              });
            } catch (e) {
              throw asRequestError(e, 'failed to create the database user');
            }
            return {
              data: { username, password },
              secret: {
                type: 'creds',
                ttl,
                maxTtl: role.max_ttl,
                internalData: { username, role: d.name, db_name: role.db_name, revocation_statements: role.revocation_statements },
              },
            };
          },
        },
      },
      help: { synopsis: 'Request database credentials.', description: 'Each read creates a new user, revoked when its lease ends.' },
    }),
  ];
}

async function writeRole(ctx: PathContext, d: FieldValues<typeof roleFields>) {
  const old = await loadRole(ctx.storage, d.name);
  const given = (k: keyof typeof roleFields) => ctx.provided.has(k);
  const pick = <K extends keyof DynamicRole & keyof typeof roleFields>(k: K, fallback: DynamicRole[K]): DynamicRole[K] => (given(k) ? (d[k] as DynamicRole[K]) : old ? old[k] : fallback);
  const role: DynamicRole = {
    db_name: pick('db_name', ''),
    creation_statements: pick('creation_statements', []),
    revocation_statements: pick('revocation_statements', []),
    rollback_statements: pick('rollback_statements', []),
    renew_statements: pick('renew_statements', []),
    default_ttl: pick('default_ttl', 0),
    max_ttl: pick('max_ttl', 0),
    credential_type: pick('credential_type', 'password'),
  };
  if (role.db_name === '') throw badRequest('empty database name attribute');
  if (role.credential_type !== 'password') throw new CofferError('invalid_request', 'unsupported credential_type: only "password" is supported');
  if (splitStatements(role.creation_statements).length === 0) throw badRequest('creation_statements must be provided');
  if (role.max_ttl > 0 && role.default_ttl > role.max_ttl) throw badRequest('default_ttl cannot be greater than max_ttl');
  await putJSON(ctx.storage, dbKeys.role(d.name), role);
  const warnings = (await loadConfig(ctx.storage, role.db_name)) ? [] : [`database "${role.db_name}" is not configured yet: credentials fail until config/${role.db_name} is written`];
  return warnings.length ? { warnings } : null;
}
