import { randomUUID } from 'node:crypto';
import {
  checkCidrs, definePath, field, genericName, listPath, readTokenSettings, tokenFields, writeTokenSettings, type CompiledPath, type FieldValues, type PathContext,
} from '../../framework/index.js';
import { badRequest, deleteOp, getJSON, putJSONOp, type StorageOp } from '../../logical/index.js';
import type { KeyedMutex } from '../../util/index.js';
import { canonicalRole, loadRole, type AppRoleKeys, type RoleEntry } from './approle-store.js';

export interface RoleDeps {
  readonly keys: AppRoleKeys;
  /** Serialises changes to one role (and its secret-ids) by role name. */
  readonly mutex: KeyedMutex;
}

const roleFields = {
  role_name: field.string({ description: 'Name of the AppRole.', required: true }),
  role_id: field.string({ description: 'A chosen role id; a random one otherwise.' }),
  bind_secret_id: field.bool({ description: 'Require a secret-id at login.', default: true }),
  secret_id_bound_cidrs: field.strings({ description: 'CIDR blocks a login with a secret-id may come from.' }),
  bound_cidr_list: field.strings({ description: 'Deprecated: use secret_id_bound_cidrs.' }),
  secret_id_num_uses: field.int({ description: 'Uses of each secret-id; 0 for unlimited.' }),
  secret_id_ttl: field.durationSeconds({ description: 'Life of each secret-id; 0 for no expiry.' }),
  local_secret_ids: field.bool({ description: 'Secret-ids are local to this cluster (set only at creation).' }),
  ...tokenFields,
};

type RoleValues = FieldValues<typeof roleFields>;

function readRole(role: RoleEntry): Record<string, unknown> {
  return {
    bind_secret_id: role.bind_secret_id,
    secret_id_bound_cidrs: role.secret_id_bound_cidrs,
    secret_id_num_uses: role.secret_id_num_uses,
    secret_id_ttl: role.secret_id_ttl,
    local_secret_ids: role.local_secret_ids,
    ...readTokenSettings(role),
  };
}

/** Write a role and its role-id index in one transaction, dropping the old role-id's index. */
async function saveRole(ctx: PathContext, keys: AppRoleKeys, role: RoleEntry, previous: RoleEntry | null): Promise<void> {
  const ops: StorageOp[] = [putJSONOp(keys.role(role.name), role)];
  if (!previous || previous.role_id !== role.role_id) {
    const index = await keys.roleIdKey(role.role_id);
    const holder = await getJSON<{ name: string }>(ctx.storage, index);
    if (holder && holder.name !== role.name) throw badRequest('role_id already in use');
    ops.push(putJSONOp(index, { name: role.name }));
    if (previous) ops.push(deleteOp(await keys.roleIdKey(previous.role_id)));
  }
  await ctx.storage.transaction(ops);
}

function checkRole(role: RoleEntry): void {
  if (!role.bind_secret_id && role.secret_id_bound_cidrs.length === 0 && role.token_bound_cidrs.length === 0) {
    throw badRequest('at least one constraint should be enabled on the role');
  }
  if (role.secret_id_num_uses < 0) throw badRequest('secret_id_num_uses cannot be negative');
  if (role.role_id === '') throw badRequest('role_id cannot be empty');
}

/**
 * The role's single-setting endpoints (role/:name/policies, …/secret-id-ttl …): each reads,
 * sets or resets one setting, so an ACL can delegate exactly that setting.
 */
const SETTINGS: Record<string, { readonly fields: readonly (keyof RoleEntry)[]; readonly reset: Partial<RoleEntry> }> = {
  policies: { fields: ['token_policies'], reset: { token_policies: [] } },
  'secret-id-num-uses': { fields: ['secret_id_num_uses'], reset: { secret_id_num_uses: 0 } },
  'secret-id-ttl': { fields: ['secret_id_ttl'], reset: { secret_id_ttl: 0 } },
  'token-ttl': { fields: ['token_ttl'], reset: { token_ttl: 0 } },
  'token-max-ttl': { fields: ['token_max_ttl'], reset: { token_max_ttl: 0 } },
  'token-num-uses': { fields: ['token_num_uses'], reset: { token_num_uses: 0 } },
  'bind-secret-id': { fields: ['bind_secret_id'], reset: { bind_secret_id: true } },
  'secret-id-bound-cidrs': { fields: ['secret_id_bound_cidrs'], reset: { secret_id_bound_cidrs: [] } },
  'token-bound-cidrs': { fields: ['token_bound_cidrs'], reset: { token_bound_cidrs: [] } },
  period: { fields: ['token_period'], reset: { token_period: 0 } },
  'local-secret-ids': { fields: ['local_secret_ids'], reset: {} },
};

export function rolePaths(deps: RoleDeps): CompiledPath[] {
  const { keys, mutex } = deps;
  const mustExist = async (ctx: PathContext, name: string): Promise<RoleEntry> => {
    const role = await loadRole(ctx.storage, keys, name);
    if (!role) throw badRequest(`role "${canonicalRole(name)}" does not exist`);
    return role;
  };

  const write = async (ctx: PathContext, d: RoleValues) =>
    mutex.run(canonicalRole(d.role_name), async () => {
      const name = canonicalRole(d.role_name);
      const previous = await loadRole(ctx.storage, keys, name);
      const sent = (k: string) => ctx.provided.has(k);
      const cidrs = sent('secret_id_bound_cidrs') ? d.secret_id_bound_cidrs : sent('bound_cidr_list') ? d.bound_cidr_list : (previous?.secret_id_bound_cidrs ?? []);
      if (previous && sent('local_secret_ids') && d.local_secret_ids !== previous.local_secret_ids) {
        throw badRequest('local_secret_ids can only be modified during role creation');
      }
      const role: RoleEntry = {
        ...writeTokenSettings(ctx, d, previous ?? undefined),
        name,
        role_id: sent('role_id') ? d.role_id : (previous?.role_id ?? randomUUID()),
        bind_secret_id: sent('bind_secret_id') || !previous ? d.bind_secret_id : previous.bind_secret_id,
        secret_id_bound_cidrs: checkCidrs('secret_id_bound_cidrs', cidrs),
        secret_id_num_uses: sent('secret_id_num_uses') ? d.secret_id_num_uses : (previous?.secret_id_num_uses ?? 0),
        secret_id_ttl: sent('secret_id_ttl') ? d.secret_id_ttl : (previous?.secret_id_ttl ?? 0),
        local_secret_ids: previous?.local_secret_ids ?? d.local_secret_ids,
      };
      checkRole(role);
      await saveRole(ctx, keys, role, previous);
      return null;
    });

  const settingPaths = Object.entries(SETTINGS).map(([suffix, setting]) =>
    definePath({
      pattern: `role/${genericName('role_name')}/${suffix}`,
      fields: roleFields,
      operations: {
        read: {
          summary: `Read the role's ${suffix}.`,
          handler: async (ctx, d) => {
            const role = await loadRole(ctx.storage, keys, d.role_name);
            if (!role) return null;
            const all = readRole(role);
            return { data: Object.fromEntries(setting.fields.map((f) => [f, all[f]])) };
          },
        },
        ...(suffix === 'local-secret-ids'
          ? {}
          : {
              update: { summary: `Set the role's ${suffix}.`, handler: async (ctx: PathContext, d: RoleValues) => {
                await mustExist(ctx, d.role_name);
                if (!setting.fields.some((f) => ctx.provided.has(f) || (f === 'token_policies' && ctx.provided.has('policies')) || (f === 'token_period' && ctx.provided.has('period')))) {
                  throw badRequest(`missing ${setting.fields[0]}`);
                }
                return write(ctx, d);
              } },
              delete: { summary: `Reset the role's ${suffix}.`, handler: async (ctx: PathContext, d: RoleValues) =>
                mutex.run(canonicalRole(d.role_name), async () => {
                  const role = await mustExist(ctx, d.role_name);
                  const reset: RoleEntry = { ...role, ...setting.reset };
                  checkRole(reset);
                  await saveRole(ctx, keys, reset, role);
                  return null;
                }) },
            }),
      },
      help: { synopsis: `The role's ${suffix}.`, description: 'One setting of the role, for ACLs that delegate just it.' },
    }),
  );

  return [
    listPath('role', 'role/', 'the AppRoles'),
    definePath({
      pattern: `role/${genericName('role_name')}/role-id`,
      fields: { role_name: roleFields.role_name, role_id: field.string({ description: 'The new role id.' }) },
      operations: {
        read: {
          summary: 'Read the role id.',
          handler: async (ctx, d) => {
            const role = await loadRole(ctx.storage, keys, d.role_name);
            return role ? { data: { role_id: role.role_id } } : null;
          },
        },
        update: {
          summary: 'Set the role id.',
          handler: async (ctx, d) =>
            mutex.run(canonicalRole(d.role_name), async () => {
              if (!d.role_id) throw badRequest('missing role_id');
              const role = await mustExist(ctx, d.role_name);
              await saveRole(ctx, keys, { ...role, role_id: d.role_id }, role);
              return null;
            }),
        },
      },
      help: { synopsis: 'The role id of a role.', description: 'The role id is the role\'s login name; it may be chosen.' },
    }),
    ...settingPaths,
    definePath({
      pattern: `role/${genericName('role_name')}`,
      fields: roleFields,
      existenceCheck: async (ctx) => (await loadRole(ctx.storage, keys, String(ctx.captures.role_name))) !== null,
      operations: {
        read: {
          summary: 'Read a role.',
          handler: async (ctx, d) => {
            const role = await loadRole(ctx.storage, keys, d.role_name);
            return role ? { data: readRole(role) } : null;
          },
        },
        create: { summary: 'Create a role.', handler: write },
        update: { summary: 'Update a role.', handler: write },
        delete: {
          summary: 'Delete a role and its secret-ids.',
          handler: async (ctx, d) =>
            mutex.run(canonicalRole(d.role_name), async () => {
              const role = await loadRole(ctx.storage, keys, d.role_name);
              if (!role) return null;
              const folder = await keys.secretIdFolder(role.name);
              const ops: StorageOp[] = [deleteOp(keys.role(role.name)), deleteOp(await keys.roleIdKey(role.role_id))];
              for (const h of await ctx.storage.list(folder)) {
                const entry = await getJSON<{ secret_id_accessor: string }>(ctx.storage, folder + h);
                ops.push(deleteOp(folder + h));
                if (entry) ops.push(deleteOp(await keys.accessorKey(entry.secret_id_accessor)));
              }
              await ctx.storage.transaction(ops);
              return null;
            }),
        },
      },
      help: { synopsis: 'Manage an AppRole.', description: 'A role: how its secret-ids are issued and what tokens its logins get.' },
    }),
  ];
}
