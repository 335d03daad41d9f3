import { badRequest, type AuthGrant, type TokenType } from '../logical/index.js';
import { CidrError, CidrSet } from '../util/index.js';
import type { PathContext } from './define-path.js';
import { field, type FieldValues } from './fields.js';

/**
 * The token_* settings every role-like object of an auth method carries (a userpass user, an
 * AppRole role, a Kubernetes role), as Vault's tokenutil.TokenParams, with the older names
 * (`policies`, `ttl`, `max_ttl`, `period`, `bound_cidrs`) accepted as aliases.
 */
export interface TokenSettings {
  readonly token_ttl: number;
  readonly token_max_ttl: number;
  readonly token_policies: readonly string[];
  readonly token_bound_cidrs: readonly string[];
  readonly token_explicit_max_ttl: number;
  readonly token_no_default_policy: boolean;
  readonly token_num_uses: number;
  readonly token_period: number;
  readonly token_type: 'default' | TokenType;
}

export const NO_TOKEN_SETTINGS: TokenSettings = Object.freeze({
  token_ttl: 0,
  token_max_ttl: 0,
  token_policies: [],
  token_bound_cidrs: [],
  token_explicit_max_ttl: 0,
  token_no_default_policy: false,
  token_num_uses: 0,
  token_period: 0,
  token_type: 'default',
});

export const tokenFields = {
  token_ttl: field.durationSeconds({ description: 'Initial TTL of issued tokens.' }),
  token_max_ttl: field.durationSeconds({ description: 'Maximum lifetime of issued tokens, renewals included.' }),
  token_policies: field.strings({ description: 'Policies of issued tokens.' }),
  token_bound_cidrs: field.strings({ description: 'CIDR blocks issued tokens may be used from.' }),
  token_explicit_max_ttl: field.durationSeconds({ description: 'A hard cap on the life of issued tokens.' }),
  token_no_default_policy: field.bool({ description: 'Leave the default policy off issued tokens.' }),
  token_num_uses: field.int({ description: 'Uses of an issued token; 0 for unlimited.' }),
  token_period: field.durationSeconds({ description: 'Make issued tokens periodic with this period.' }),
  token_type: field.string({ description: 'Type of issued tokens: "service", "batch" or "default".' }),
  policies: field.strings({ description: 'Deprecated: use token_policies.' }),
  ttl: field.durationSeconds({ description: 'Deprecated: use token_ttl.' }),
  max_ttl: field.durationSeconds({ description: 'Deprecated: use token_max_ttl.' }),
  period: field.durationSeconds({ description: 'Deprecated: use token_period.' }),
  bound_cidrs: field.strings({ description: 'Deprecated: use token_bound_cidrs.' }),
};

type TokenFieldValues = FieldValues<typeof tokenFields>;

const LEGACY = { policies: 'token_policies', ttl: 'token_ttl', max_ttl: 'token_max_ttl', period: 'token_period', bound_cidrs: 'token_bound_cidrs' } as const;

/** A CIDR list checked once, at write time; the message names the field, never the value. */
export function checkCidrs(name: string, blocks: readonly string[]): string[] {
  try {
    return [...new CidrSet(blocks).blocks];
  } catch (e) {
    if (e instanceof CidrError) throw badRequest(`field "${name}": ${e.message}`);
    throw e;
  }
}

/**
 * The settings after a write: the fields sent replace the current ones (a new name wins over
 * its old alias when both are sent), the rest stay.
 */
export function writeTokenSettings(ctx: PathContext, d: TokenFieldValues, current: TokenSettings = NO_TOKEN_SETTINGS): TokenSettings {
  const out: { -readonly [K in keyof TokenSettings]: TokenSettings[K] } = { ...current };
  const sent = (k: keyof typeof tokenFields) => ctx.provided.has(k);
  for (const [old, now] of Object.entries(LEGACY) as [keyof typeof LEGACY, (typeof LEGACY)[keyof typeof LEGACY]][]) {
    if (sent(old) && !sent(now)) (out as Record<string, unknown>)[now] = d[old];
  }
  if (sent('token_ttl')) out.token_ttl = d.token_ttl;
  if (sent('token_max_ttl')) out.token_max_ttl = d.token_max_ttl;
  if (sent('token_policies')) out.token_policies = d.token_policies;
  if (sent('token_bound_cidrs')) out.token_bound_cidrs = d.token_bound_cidrs;
  if (sent('token_explicit_max_ttl')) out.token_explicit_max_ttl = d.token_explicit_max_ttl;
  if (sent('token_no_default_policy')) out.token_no_default_policy = d.token_no_default_policy;
  if (sent('token_num_uses')) out.token_num_uses = d.token_num_uses;
  if (sent('token_period')) out.token_period = d.token_period;
  if (sent('token_type')) {
    const t = d.token_type.trim().toLowerCase();
    const type = t === '' || t === 'default' || t === 'default-service' ? 'default' : t === 'service' ? 'service' : t === 'batch' || t === 'default-batch' ? 'batch' : null;
    if (type === null) throw badRequest('invalid "token_type" value');
    out.token_type = type;
  }
  out.token_bound_cidrs = checkCidrs('token_bound_cidrs', out.token_bound_cidrs);
  for (const k of ['token_ttl', 'token_max_ttl', 'token_explicit_max_ttl', 'token_period'] as const) {
    if (out[k] < 0) throw badRequest(`"${k}" cannot be negative`);
  }
  if (out.token_num_uses < 0) throw badRequest('"token_num_uses" cannot be negative');
  if (out.token_max_ttl > 0 && out.token_ttl > out.token_max_ttl) throw badRequest('"token_ttl" cannot be greater than "token_max_ttl"');
  if (out.token_type === 'batch' && out.token_period > 0) throw badRequest('"token_type" cannot be "batch" when "token_period" is set');
  return out;
}

/** The settings as a read reports them. */
export function readTokenSettings(s: TokenSettings): Record<string, unknown> {
  return {
    token_ttl: s.token_ttl,
    token_max_ttl: s.token_max_ttl,
    token_policies: s.token_policies,
    token_bound_cidrs: s.token_bound_cidrs,
    token_explicit_max_ttl: s.token_explicit_max_ttl,
    token_no_default_policy: s.token_no_default_policy,
    token_num_uses: s.token_num_uses,
    token_period: s.token_period,
    token_type: s.token_type === 'default' ? 'default-service' : s.token_type,
    // The older names, which older clients still read.
    policies: s.token_policies,
    ttl: s.token_ttl,
    max_ttl: s.token_max_ttl,
    period: s.token_period,
    bound_cidrs: s.token_bound_cidrs,
  };
}

/** The part of a login's grant the settings decide. */
export function grantFromSettings(s: TokenSettings): Omit<AuthGrant, 'displayName'> {
  return {
    policies: s.token_policies,
    noDefaultPolicy: s.token_no_default_policy,
    ttl: s.token_ttl,
    maxTtl: s.token_max_ttl,
    explicitMaxTtl: s.token_explicit_max_ttl,
    period: s.token_period,
    numUses: s.token_num_uses,
    boundCidrs: s.token_bound_cidrs,
    // "default" leaves the type to the mount's token_type.
    ...(s.token_type === 'default' ? {} : { tokenType: s.token_type }),
  };
}

/** A renewal's caps from the settings as they are now. */
export function renewalFromSettings(s: TokenSettings): { ttl: number; maxTtl: number; period: number } {
  return { ttl: s.token_ttl, maxTtl: s.token_max_ttl, period: s.token_period };
}

/** Policy lists equal but for order, case, spacing and "default" (Vault's EquivalentPolicies). */
export function equivalentPolicies(a: readonly string[], b: readonly string[]): boolean {
  const norm = (l: readonly string[]) => [...new Set(l.map((p) => p.trim().toLowerCase()).filter((p) => p !== '' && p !== 'default'))].sort().join('\n');
  return norm(a) === norm(b);
}
