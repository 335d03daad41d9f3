import { definePath, equivalentPolicies, field, grantFromSettings, renewalFromSettings, type CompiledPath, type PathContext } from '../../framework/index.js';
import { CofferError, badRequest, type AuthGrant, type AuthRenewRequest, type AuthRenewal } from '../../logical/index.js';
import { cidrsAdmit } from '../../util/index.js';
import { claimAt, groupNames, mappedMetadata, matchBoundClaims, type Claims } from './claims.js';
import { SIGNING_ALGORITHMS } from './keys.js';
import { loadConfig, type JwtConfig, type VerifierCache } from './provider.js';
import { loadRole, type JwtRole } from './path-role.js';
import { audiencesOf, checkRegisteredClaims } from './validate.js';

/** The role a login names, or the mount's default_role; a 400 when there is none. */
export async function roleFor(ctx: PathContext, config: JwtConfig, requested: string): Promise<{ name: string; role: JwtRole }> {
  const name = (requested || config.default_role).toLowerCase();
  if (!name) throw badRequest('missing role');
  const role = await loadRole(ctx.storage, name);
  if (!role) throw badRequest(`role "${name}" could not be found`);
  return { name, role };
}

/** A role's token_bound_cidrs also bound where its logins may come from. */
export function checkLoginAddress(ctx: PathContext, role: JwtRole): void {
  if (!cidrsAdmit(role.token_bound_cidrs, ctx.req.connection.remoteAddress)) {
    throw new CofferError('permission_denied', 'permission denied');
  }
}

export const algorithmsOf = (config: JwtConfig): readonly string[] => (config.jwt_supported_algs.length ? config.jwt_supported_algs : SIGNING_ALGORITHMS);

/**
 * What a verified token's claims vouch for under a role: the alias (user_claim), its metadata
 * (claim_mappings, plus the role), the external groups (groups_claim), once bound_claims hold.
 */
export function grantFor(roleName: string, role: JwtRole, claims: Claims): AuthGrant {
  const user = role.user_claim_json_pointer ? claimAt(claims, role.user_claim) : Object.hasOwn(claims, role.user_claim) ? claims[role.user_claim] : undefined;
  if (user === undefined || user === null) throw badRequest(`claim "${role.user_claim}" not found in token`);
  if (typeof user !== 'string') throw badRequest(`claim "${role.user_claim}" could not be converted to string`);
  const metadata = { ...mappedMetadata(role.claim_mappings, claims), role: roleName };
  const groups = role.groups_claim ? groupNames(role.groups_claim, claims) : [];
  matchBoundClaims(role.bound_claims, role.bound_claims_type, claims);
  return {
    ...grantFromSettings(role),
    displayName: user,
    metadata,
    alias: { name: user, metadata },
    groupAliases: groups,
    internalData: { role: roleName },
  };
}

export function loginPath(verifiers: VerifierCache): CompiledPath {
  return definePath({
    pattern: 'login',
    fields: {
      role: field.string({ description: 'The role to log in with; the default_role when empty.' }),
      jwt: field.string({ description: 'The signed JWT.' }),
    },
    operations: {
      update: {
        summary: 'Log in with a JWT.',
        handler: async (ctx, d) => {
          const config = await loadConfig(ctx.storage);
          if (!config) throw badRequest('could not load configuration');
          const { name, role } = await roleFor(ctx, config, d.role);
          if (role.role_type === 'oidc') throw badRequest('role with oidc role_type is not allowed');
          if (!d.jwt) throw badRequest('missing token');
          checkLoginAddress(ctx, role);

          const { keys } = await verifiers.verifier(config);
          const claims = await keys.verify(d.jwt, algorithmsOf(config));
          checkRegisteredClaims(claims, {
            issuer: config.bound_issuer,
            subject: role.bound_subject,
            audiences: role.bound_audiences,
            expirationLeeway: role.expiration_leeway,
            notBeforeLeeway: role.not_before_leeway,
            clockSkewLeeway: role.clock_skew_leeway,
            now: ctx.system.clock.now() / 1000,
          });
          // A token meant for some audience is not for this role unless the role names it.
          if (audiencesOf(claims).length && !role.bound_audiences.length) throw badRequest('audience claim found in JWT but no audiences bound to the role');
          return { grant: grantFor(name, role, claims) };
        },
      },
    },
    help: { synopsis: 'Log in with a JWT.', description: 'The JWT is verified against the configured keys, then checked against the role\'s bounds.' },
  });
}

/** A JWT or OIDC token renews only while its role exists with the policies it was issued. */
export async function renewLogin(req: AuthRenewRequest): Promise<AuthRenewal> {
  const name = typeof req.internalData.role === 'string' ? req.internalData.role : '';
  const role = name ? await loadRole(req.storage, name) : null;
  if (!role) throw badRequest(`role ${name} does not exist during renewal`);
  if (!equivalentPolicies(role.token_policies, req.policies)) throw badRequest('policies have changed, not renewing');
  return renewalFromSettings(role);
}
