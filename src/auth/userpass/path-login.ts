import { definePath, equivalentPolicies, field, genericName, grantFromSettings, renewalFromSettings, type CompiledPath } from '../../framework/index.js';
import { CofferError, badRequest, type AuthRenewRequest, type AuthRenewal } from '../../logical/index.js';
import { cidrsAdmit } from '../../util/index.js';
import { checkPassword } from './password-hash.js';
import { canonicalUser, loadUser } from './user-store.js';

/** The one answer to a failed login, whatever failed: nothing tells a guesser which part was wrong. */
const INVALID = 'invalid username or password';

export const loginPath: CompiledPath = definePath({
  pattern: `login/${genericName('username')}`,
  fields: {
    username: field.string({ description: 'Name of the user.', required: true }),
    password: field.string({ description: 'The user\'s password.' }),
  },
  operations: {
    update: {
      summary: 'Log in with a user name and password.',
      handler: async (ctx, d) => {
        const name = canonicalUser(d.username);
        const user = await loadUser(ctx.storage, name);
        // The hash is checked whether or not the user exists, so both answers take as long.
        const ok = await checkPassword(d.password, user && Buffer.byteLength(d.password) <= 72 ? user.password_hash : null);
        if (!user || !ok) throw badRequest(INVALID);
        if (!cidrsAdmit(user.token_bound_cidrs, ctx.req.connection.remoteAddress)) {
          throw new CofferError('permission_denied', 'login request originated from invalid CIDR');
        }
        return {
          grant: {
            ...grantFromSettings(user),
            displayName: name,
            metadata: { username: name },
            alias: { name },
            internalData: { username: name },
          },
        };
      },
    },
  },
  help: { synopsis: 'Log in with a user name and password.', description: 'Answers with a token carrying the user\'s policies.' },
});

/** A userpass token renews only while its user exists with the policies it was issued. */
export async function renewLogin(req: AuthRenewRequest): Promise<AuthRenewal> {
  const name = typeof req.internalData.username === 'string' ? req.internalData.username : '';
  const user = name ? await loadUser(req.storage, name) : null;
  if (!user) throw badRequest('user no longer exists');
  if (!equivalentPolicies(user.token_policies, req.policies)) throw badRequest('policies have changed, not renewing');
  return renewalFromSettings(user);
}
