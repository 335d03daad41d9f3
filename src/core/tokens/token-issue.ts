import { CofferError, badRequest, type AuthGrant, type AuthResult, type SystemView, type TokenType } from '../../logical/index.js';
import type { MountTokenType } from '../mounts/index.js';
import { CidrError, CidrSet } from '../../util/index.js';
import type { TokenEntry, TokenStore } from './token-store.js';

/** The mount a grant came from. */
export interface IssuingMount {
  /** "auth/userpass/" */
  readonly prefix: string;
  readonly type: string;
  readonly accessor: string;
  readonly system: SystemView;
}

/** What identity knows of a login: the entity its alias belongs to, and the entity's and groups' policies. */
export interface LoginIdentity {
  readonly entityId: string;
  readonly identityPolicies: readonly string[];
}

export interface IssueDeps {
  readonly store: TokenStore;
  /** Find or create the entity of a login's alias (and its external groups). */
  readonly identify: (mount: IssuingMount, alias: NonNullable<AuthGrant['alias']>, groupAliases: readonly string[]) => Promise<LoginIdentity>;
  /** The identity policies of an entity now (a child token inherits its parent's entity). */
  readonly identityPolicies: (entityId: string) => Promise<readonly string[]>;
}

export interface IssueInput {
  readonly grant: AuthGrant;
  readonly mount: IssuingMount;
  /** The request path the grant answered ("auth/userpass/login/alice"). */
  readonly path: string;
  /** The calling token, for the token store's child tokens. */
  readonly caller: TokenEntry | null;
}

/**
 * Policy names as Vault keeps them: trimmed, lower-cased, de-duplicated, sorted, "default" added
 * unless refused. A list holding "root" is just ["root"].
 */
export function sanitizePolicies(policies: readonly string[], addDefault: boolean): string[] {
  const set = new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

/** "auth/userpass/" and "alice" → "userpass-alice"; the token store's "auth/token/" and "" → "token". */
function displayName(prefix: string, name: string): string {
  const source = prefix.replace(/^auth\//, '').replace(/\/$/, '').replaceAll('/', '-');
  return `${source}-${name}`.replace(/[^a-zA-Z0-9._@-]/g, '-').replace(/-+$/, '');
}

/** The token's TTL from the grant and the mount's tuning (Vault's login rules). */
export function grantTtl(grant: AuthGrant, system: SystemView, rootForever: boolean): { ttl: number; warnings: string[] } {
  const period = grant.period ?? 0;
  const explicitMax = grant.explicitMaxTtl ?? 0;
  const mountMax = system.maxLeaseTtl();
  const warnings: string[] = [];
  let ttl: number;
  if (period > 0) {
    ttl = period;
  } else {
    ttl = grant.ttl || system.defaultLeaseTtl();
    const maxTtl = grant.maxTtl ? Math.min(grant.maxTtl, mountMax || grant.maxTtl) : mountMax;
    if (maxTtl > 0 && ttl > maxTtl) {
      warnings.push(`TTL of "${ttl}s" exceeded the effective max_ttl of "${maxTtl}s"; TTL value is capped accordingly`);
      ttl = maxTtl;
    }
  }
  if (explicitMax > 0 && ttl > explicitMax) {
    warnings.push(`TTL of "${ttl}s" exceeded the explicit max TTL of "${explicitMax}s"; TTL value is capped accordingly`);
    ttl = explicitMax;
  }
  // A root token asked for with no TTL at all never expires.
  if (rootForever && !grant.ttl && period === 0 && explicitMax === 0) ttl = 0;
  return { ttl, warnings };
}

/**
 * The token type of a login from the grant and its mount's token_type: a mount tuned to
 * "service" or "batch" decides; otherwise the grant's type, else the mount's default. A
 * default of batch yields to what a batch token cannot hold (a period, a use limit), so a
 * periodic role on a default-batch mount still logs in, with a service token.
 */
export function loginTokenType(grant: AuthGrant, mountType: MountTokenType | undefined): TokenType {
  if (mountType === 'service' || mountType === 'batch') return mountType;
  if (grant.tokenType) return grant.tokenType;
  const batchable = !(grant.period ?? 0) && !(grant.numUses ?? 0);
  return mountType === 'default-batch' && batchable ? 'batch' : 'service';
}

/**
 * Mint the token a grant asks for: the one place tokens are made, for logins and the token
 * store's create endpoints alike. An auth method never gets root: a grant whose policies name
 * root in any case or spacing is refused unless the token store (which checks its caller is
 * root) asked for it.
 */
export async function issueToken(deps: IssueDeps, input: IssueInput): Promise<{ auth: AuthResult; warnings: string[] }> {
  const { grant, mount } = input;
  const fromStore = grant.tokenStore;
  const policies = sanitizePolicies(grant.policies, !grant.noDefaultPolicy);
  if (policies.includes('root') && !fromStore) throw badRequest('auth methods cannot create root tokens');
  const numUses = grant.numUses ?? 0;
  if (!Number.isSafeInteger(numUses) || numUses < 0) throw badRequest('token_num_uses cannot be negative');
  if (grant.tokenType === 'batch') {
    // What a batch token cannot hold: it lives in no storage to count uses or renew in.
    if (policies.includes('root')) throw badRequest('batch tokens cannot be root tokens');
    if ((grant.period ?? 0) > 0) throw badRequest('batch tokens cannot be periodic');
    if (numUses > 0) throw badRequest('batch tokens cannot have a use limit');
    if (fromStore?.id !== undefined) throw badRequest('batch tokens cannot have a chosen id');
  }
  let boundCidrs: readonly string[] = [];
  try {
    if (grant.boundCidrs?.length) boundCidrs = new CidrSet(grant.boundCidrs).blocks;
  } catch (e) {
    if (e instanceof CidrError) throw badRequest(`token_bound_cidrs: ${e.message}`);
    throw e;
  }

  let entityId = '';
  let identityPolicies: readonly string[] = [];
  if (fromStore?.childOfCaller && input.caller) {
    entityId = input.caller.entityId;
    if (entityId) identityPolicies = await deps.identityPolicies(entityId);
  } else if (grant.alias && !fromStore) {
    ({ entityId, identityPolicies } = await deps.identify(mount, grant.alias, grant.groupAliases ?? []));
  }

  const { ttl, warnings } = grantTtl(grant, mount.system, policies.includes('root') && fromStore !== undefined);
  const parent = fromStore?.childOfCaller && input.caller ? input.caller.id : '';
  if (fromStore?.childOfCaller && !input.caller) throw new CofferError('permission_denied', 'permission denied');
  const { token, entry } = await deps.store.create({
    ...(fromStore?.id !== undefined ? { id: fromStore.id } : {}),
    parent,
    policies,
    path: fromStore?.path ?? input.path,
    meta: grant.metadata && Object.keys(grant.metadata).length ? { ...grant.metadata } : null,
    displayName: displayName(mount.prefix, grant.displayName),
    numUses,
    ttl,
    explicitMaxTtl: grant.explicitMaxTtl ?? 0,
    period: grant.period ?? 0,
    renewable: grant.renewable ?? true,
    role: fromStore?.role ?? '',
    entityId,
    boundCidrs,
    internal: grant.internalData ?? null,
    type: grant.tokenType === 'batch' ? 'batch' : 'service',
  });
  return { auth: authResult(entry, token, identityPolicies), warnings };
}

/** The `auth` block for a token: on issue, and when the token store renews one. */
export function authResult(entry: TokenEntry, token: string, identityPolicies: readonly string[]): AuthResult {
  const all = identityPolicies.length ? [...new Set([...entry.policies, ...identityPolicies])].sort() : entry.policies;
  return {
    clientToken: token,
    accessor: entry.accessor,
    policies: all,
    tokenPolicies: entry.policies,
    identityPolicies,
    metadata: entry.meta,
    leaseDuration: entry.ttl,
    renewable: entry.renewable,
    orphan: entry.parent === '',
    numUses: Math.max(0, entry.numUses),
    entityId: entry.entityId,
    tokenType: entry.type,
  };
}
