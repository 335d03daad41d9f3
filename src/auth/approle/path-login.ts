import { definePath, equivalentPolicies, field, grantFromSettings, renewalFromSettings, type CompiledPath } from '../../framework/index.js';
import { CofferError, badRequest, getJSON, type AuthRenewRequest, type AuthRenewal } from '../../logical/index.js';
import { cidrsAdmit, type KeyedMutex } from '../../util/index.js';
import { loadRole, type AppRoleKeys, type SecretIdEntry } from './approle-store.js';
import { destroySecretId, expired, spendSecretId } from './path-secret-id.js';

/** The one answer to a failed login: whether the role id, the secret-id or both were wrong stays unsaid. */
const INVALID = 'invalid role or secret ID';
const refuse = () => badRequest(INVALID);
const fromElsewhere = () => new CofferError('permission_denied', 'login request originated from invalid CIDR');

export function loginPath(deps: { readonly keys: AppRoleKeys; readonly mutex: KeyedMutex }): CompiledPath {
  const { keys, mutex } = deps;
  return definePath({
    pattern: 'login',
    fields: {
      role_id: field.string({ description: 'The role id of the AppRole.' }),
      secret_id: field.string({ description: 'A secret-id of the role (when it binds one).' }),
    },
    operations: {
      update: {
        summary: 'Log in with a role id and secret-id.',
        handler: async (ctx, d) => {
          if (!d.role_id) throw badRequest('missing role_id');
          const address = ctx.req.connection.remoteAddress;
          const ref = await getJSON<{ name: string }>(ctx.storage, await keys.roleIdKey(d.role_id));
          const role = ref ? await loadRole(ctx.storage, keys, ref.name) : null;
          // The secret-id is looked up whether or not the role exists, so both failures take as long.
          const key = await keys.secretIdKey(role?.name ?? `\u0000${d.role_id}`, await keys.hmac(d.secret_id));
          let secret: SecretIdEntry | null = null;
          if (!role) {
            await ctx.storage.get(key);
            throw refuse();
          }
          if (role.bind_secret_id) {
            if (!d.secret_id) throw refuse();
            const nowMs = ctx.system.clock.now();
            const read = () => getJSON<SecretIdEntry>(ctx.storage, key);
            secret = await read();
            if (!secret) throw refuse();
            if (expired(secret, nowMs)) {
              await mutex.run(key, () => destroySecretId(ctx, keys, key, secret!));
              throw refuse();
            }
            if (!cidrsAdmit(secret.cidr_list, address) || !cidrsAdmit(role.secret_id_bound_cidrs, address)) throw fromElsewhere();
            // A secret-id with limited uses is spent under its lock: of N parallel logins with one
            // use left, exactly one succeeds.
            if (secret.secret_id_num_uses > 0) {
              secret = await mutex.run(key, async () => {
                const fresh = await read();
                if (!fresh || expired(fresh, nowMs)) return null;
                await spendSecretId(ctx, keys, key, fresh, nowMs);
                return fresh;
              });
              if (!secret) throw refuse();
            }
          } else if (!cidrsAdmit(role.secret_id_bound_cidrs, address)) {
            throw fromElsewhere();
          }
          const settings = grantFromSettings(role);
          return {
            grant: {
              ...settings,
              boundCidrs: secret?.token_bound_cidrs.length ? secret.token_bound_cidrs : role.token_bound_cidrs,
              displayName: role.name,
              metadata: { ...(secret?.metadata ?? {}), role_name: role.name },
              alias: { name: role.role_id, metadata: { role_name: role.name } },
              internalData: { role_name: role.name, ...(secret ? { secret_id_accessor: secret.secret_id_accessor } : {}) },
            },
          };
        },
      },
    },
    help: { synopsis: 'Log in with an AppRole.', description: 'Exchanges a role id (and, when the role binds one, a secret-id) for a token.' },
  });
}

/** An AppRole token renews only while its role exists with the policies it was issued. */
export function renewLogin(keys: AppRoleKeys): (req: AuthRenewRequest) => Promise<AuthRenewal> {
  return async (req) => {
    const name = typeof req.internalData.role_name === 'string' ? req.internalData.role_name : '';
    const role = name ? await loadRole(req.storage, keys, name) : null;
    if (!role) throw badRequest('role no longer exists');
    if (!equivalentPolicies(role.token_policies, req.policies)) throw badRequest('policies have changed, not renewing');
    return renewalFromSettings(role);
  };
}
