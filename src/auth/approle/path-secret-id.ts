import { randomUUID } from 'node:crypto';
import { checkCidrs, definePath, field, genericName, isPlainObject, type CompiledPath, type FieldValues, type PathContext } from '../../framework/index.js';
import { CofferError, badRequest, deleteOp, getJSON, putJSON, putJSONOp } from '../../logical/index.js';
import { CidrSet } from '../../util/index.js';
import { canonicalRole, loadRole, type AccessorEntry, type AppRoleKeys, type RoleEntry, type SecretIdEntry } from './approle-store.js';
import type { RoleDeps } from './path-role.js';

const NEVER = '0001-01-01T00:00:00Z';

const issueFields = {
  role_name: field.string({ description: 'Name of the AppRole.', required: true }),
  secret_id: field.string({ description: 'The secret-id to register (custom-secret-id only).' }),
  metadata: field.raw({ description: 'Metadata for tokens issued with the secret-id: a JSON object, or a string holding one.' }),
  cidr_list: field.strings({ description: 'CIDR blocks a login with this secret-id may come from.' }),
  token_bound_cidrs: field.strings({ description: 'CIDR blocks the tokens it issues may be used from.' }),
  num_uses: field.int({ description: 'Uses of this secret-id; at most the role\'s secret_id_num_uses.' }),
  ttl: field.durationSeconds({ description: 'Life of this secret-id; at most the role\'s secret_id_ttl.' }),
};

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw badRequest('field "metadata" must be a JSON object of strings');
    }
  }
  if (!isPlainObject(value) || Object.values(value).some((v) => typeof v !== 'string')) throw badRequest('field "metadata" must be a JSON object of strings');
  return { ...(value as Record<string, string>) };
}

/** A secret-id as lookups report it. */
function describe(e: SecretIdEntry): Record<string, unknown> {
  return {
    cidr_list: e.cidr_list,
    creation_time: e.creation_time,
    expiration_time: e.expiration_time || NEVER,
    last_updated_time: e.last_updated_time,
    metadata: e.metadata,
    secret_id_accessor: e.secret_id_accessor,
    secret_id_num_uses: e.secret_id_num_uses,
    secret_id_ttl: e.secret_id_ttl,
    token_bound_cidrs: e.token_bound_cidrs,
  };
}

export const expired = (e: SecretIdEntry, nowMs: number): boolean => e.expiration_time !== '' && Date.parse(e.expiration_time) <= nowMs;

/** Remove a secret-id and its accessor together. */
export async function destroySecretId(ctx: Pick<PathContext, 'storage'>, keys: AppRoleKeys, key: string, entry: SecretIdEntry): Promise<void> {
  await ctx.storage.transaction([deleteOp(key), deleteOp(await keys.accessorKey(entry.secret_id_accessor))]);
}

export function secretIdPaths(deps: RoleDeps): CompiledPath[] {
  const { keys, mutex } = deps;

  const roleOf = async (ctx: PathContext, name: string): Promise<RoleEntry> => {
    const role = await loadRole(ctx.storage, keys, name);
    if (!role) throw badRequest(`role "${canonicalRole(name)}" does not exist`);
    return role;
  };

  const issue = async (ctx: PathContext, d: FieldValues<typeof issueFields>, secretId: string) =>
    mutex.run(canonicalRole(d.role_name), async () => {
      const role = await roleOf(ctx, d.role_name);
      if (!role.bind_secret_id) throw badRequest('bind_secret_id is not set on the role');
      const cidrs = checkCidrs('cidr_list', d.cidr_list);
      const tokenCidrs = checkCidrs('token_bound_cidrs', d.token_bound_cidrs);
      if (!new CidrSet(role.secret_id_bound_cidrs).covers(new CidrSet(cidrs))) throw badRequest('cidr_list must be within the role\'s secret_id_bound_cidrs');
      if (!new CidrSet(role.token_bound_cidrs).covers(new CidrSet(tokenCidrs))) throw badRequest('token_bound_cidrs must be within the role\'s token_bound_cidrs');
      const numUses = ctx.provided.has('num_uses') ? d.num_uses : role.secret_id_num_uses;
      if (numUses < 0) throw badRequest('num_uses cannot be negative');
      if (role.secret_id_num_uses > 0 && (numUses === 0 || numUses > role.secret_id_num_uses)) throw badRequest('num_uses cannot be higher than the role\'s secret_id_num_uses');
      const ttl = ctx.provided.has('ttl') ? d.ttl : role.secret_id_ttl;
      if (role.secret_id_ttl > 0 && (ttl === 0 || ttl > role.secret_id_ttl)) throw badRequest('ttl cannot be longer than the role\'s secret_id_ttl');
      const metadata = parseMetadata(d.metadata);

      const hmac = await keys.hmac(secretId);
      const key = await keys.secretIdKey(role.name, hmac);
      return mutex.run(key, async () => {
        if (await ctx.storage.get(key)) throw badRequest('SecretID is already registered');
        const nowMs = ctx.system.clock.now();
        const now = new Date(nowMs).toISOString();
        const entry: SecretIdEntry = {
          secret_id_accessor: randomUUID(),
          secret_id_num_uses: numUses,
          secret_id_ttl: ttl,
          creation_time: now,
          expiration_time: ttl > 0 ? new Date(nowMs + ttl * 1000).toISOString() : '',
          last_updated_time: now,
          metadata,
          cidr_list: cidrs,
          token_bound_cidrs: tokenCidrs,
        };
        await ctx.storage.transaction([
          putJSONOp(key, entry),
          putJSONOp(await keys.accessorKey(entry.secret_id_accessor), { role: role.name, secret_id_hmac: hmac } satisfies AccessorEntry),
        ]);
        return { data: { secret_id: secretId, secret_id_accessor: entry.secret_id_accessor, secret_id_ttl: ttl, secret_id_num_uses: numUses } };
      });
    });

  /** The live secret-id of a role, by value; null when unknown, expired or another role's. */
  const byValue = async (ctx: PathContext, roleName: string, secretId: string): Promise<{ key: string; entry: SecretIdEntry } | null> => {
    if (!secretId) throw badRequest('missing secret_id');
    const key = await keys.secretIdKey(roleName, await keys.hmac(secretId));
    const entry = await getJSON<SecretIdEntry>(ctx.storage, key);
    return entry && !expired(entry, ctx.system.clock.now()) ? { key, entry } : null;
  };

  /**
   * A secret-id by accessor, only when it belongs to the role named in the path: an operator
   * allowed on one role's secret-ids reaches no other role's through an accessor.
   */
  const byAccessor = async (ctx: PathContext, roleName: string, accessor: string): Promise<{ key: string; entry: SecretIdEntry }> => {
    if (!accessor) throw badRequest('missing secret_id_accessor');
    const ref = await getJSON<AccessorEntry>(ctx.storage, await keys.accessorKey(accessor));
    const key = ref && ref.role === canonicalRole(roleName) ? await keys.secretIdKey(ref.role, ref.secret_id_hmac) : null;
    const entry = key ? await getJSON<SecretIdEntry>(ctx.storage, key) : null;
    if (!key || !entry) throw new CofferError('not_found', 'failed to find accessor entry for secret_id_accessor');
    return { key, entry };
  };

  const roleName = { role_name: issueFields.role_name };
  const secretIdField = { ...roleName, secret_id: field.string({ description: 'The secret-id.' }) };
  const accessorField = { ...roleName, secret_id_accessor: field.string({ description: 'The secret-id\'s accessor.' }) };
  const help = (synopsis: string) => ({ synopsis, description: synopsis });

  // A secret-id changes only under its own key's lock (logins spend uses under it too).
  const destroyByValue = async (ctx: PathContext, d: FieldValues<typeof secretIdField>) => {
    const found = await byValue(ctx, d.role_name, d.secret_id);
    if (found) await mutex.run(found.key, () => destroySecretId(ctx, keys, found.key, found.entry));
    return null;
  };
  const destroyByAccessor = async (ctx: PathContext, d: FieldValues<typeof accessorField>) => {
    const found = await byAccessor(ctx, d.role_name, d.secret_id_accessor);
    await mutex.run(found.key, () => destroySecretId(ctx, keys, found.key, found.entry));
    return null;
  };

  return [
    definePath({
      pattern: `role/${genericName('role_name')}/secret-id/?`,
      fields: issueFields,
      operations: {
        update: { summary: 'Generate a secret-id.', handler: (ctx, d) => issue(ctx, d, randomUUID()) },
        list: {
          summary: 'List the accessors of a role\'s secret-ids.',
          handler: async (ctx, d) => {
            const role = await roleOf(ctx, d.role_name);
            const folder = await keys.secretIdFolder(role.name);
            const accessors: string[] = [];
            for (const h of await ctx.storage.list(folder)) {
              const e = await getJSON<SecretIdEntry>(ctx.storage, folder + h);
              if (e) accessors.push(e.secret_id_accessor);
            }
            return accessors.length ? { data: { keys: accessors.sort() } } : null;
          },
        },
      },
      help: help('Generate a secret-id for a role, or list its secret-ids\' accessors.'),
    }),
    definePath({
      pattern: `role/${genericName('role_name')}/custom-secret-id`,
      fields: issueFields,
      operations: {
        update: {
          summary: 'Register a chosen secret-id.',
          handler: (ctx, d) => {
            if (!d.secret_id) throw badRequest('missing secret_id');
            return issue(ctx, d, d.secret_id);
          },
        },
      },
      help: help('Register a secret-id of the caller\'s choosing (the push model).'),
    }),
    definePath({
      pattern: `role/${genericName('role_name')}/secret-id/lookup/?`,
      fields: secretIdField,
      operations: {
        update: {
          summary: 'Look up a secret-id.',
          handler: async (ctx, d) => {
            await roleOf(ctx, d.role_name);
            const found = await byValue(ctx, d.role_name, d.secret_id);
            return found ? { data: describe(found.entry) } : null;
          },
        },
      },
      help: help('Read the properties of a secret-id.'),
    }),
    definePath({
      pattern: `role/${genericName('role_name')}/secret-id/destroy/?`,
      fields: secretIdField,
      operations: { update: { summary: 'Destroy a secret-id.', handler: destroyByValue }, delete: { summary: 'Destroy a secret-id.', handler: destroyByValue } },
      help: help('Destroy a secret-id.'),
    }),
    definePath({
      pattern: `role/${genericName('role_name')}/secret-id-accessor/lookup/?`,
      fields: accessorField,
      operations: {
        update: {
          summary: 'Look up a secret-id by accessor.',
          handler: async (ctx, d) => {
            await roleOf(ctx, d.role_name);
            const found = await byAccessor(ctx, d.role_name, d.secret_id_accessor);
            return { data: describe(found.entry) };
          },
        },
      },
      help: help('Read the properties of a secret-id by its accessor.'),
    }),
    definePath({
      pattern: `role/${genericName('role_name')}/secret-id-accessor/destroy/?`,
      fields: accessorField,
      operations: { update: { summary: 'Destroy a secret-id by accessor.', handler: destroyByAccessor }, delete: { summary: 'Destroy a secret-id by accessor.', handler: destroyByAccessor } },
      help: help('Destroy a secret-id by its accessor.'),
    }),
  ];
}

/** Spend one use of a secret-id: the last use destroys it. Called under the secret-id's lock. */
export async function spendSecretId(ctx: Pick<PathContext, 'storage'>, keys: AppRoleKeys, key: string, entry: SecretIdEntry, nowMs: number): Promise<void> {
  if (entry.secret_id_num_uses === 0) return;
  if (entry.secret_id_num_uses === 1) return destroySecretId(ctx, keys, key, entry);
  await putJSON(ctx.storage, key, { ...entry, secret_id_num_uses: entry.secret_id_num_uses - 1, last_updated_time: new Date(nowMs).toISOString() });
}
