import type { TokenEntry } from './token-store.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The token as auth/token/lookup* report it. `token` is "" when looked up by accessor. */
export function lookupData(entry: TokenEntry, at: { readonly token: string; readonly nowMs: number; readonly identityPolicies: readonly string[] }): Record<string, unknown> {
  const { token, nowMs } = at;
  const data: Record<string, unknown> = {
    accessor: entry.accessor,
    creation_time: entry.creationTime,
    creation_ttl: entry.creationTtl,
    display_name: entry.displayName,
    entity_id: entry.entityId,
    expire_time: entry.expireAt ? iso(entry.expireAt) : null,
    explicit_max_ttl: entry.explicitMaxTtl,
    id: token,
    issue_time: iso(entry.creationTime * 1000),
    meta: entry.meta,
    num_uses: Math.max(0, entry.numUses),
    orphan: entry.parent === '',
    path: entry.path,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: entry.expireAt ? Math.max(0, Math.round((entry.expireAt - nowMs) / 1000)) : 0,
    type: entry.type,
  };
  // Shown once the token has been renewed (lastRenewal starts at the creation instant).
  if (Math.floor(entry.lastRenewal / 1000) > entry.creationTime) {
    data.last_renewal = iso(entry.lastRenewal);
    data.last_renewal_time = Math.floor(entry.lastRenewal / 1000);
  }
  if (entry.period) data.period = entry.period;
  if (entry.boundCidrs.length) data.bound_cidrs = entry.boundCidrs;
  if (at.identityPolicies.length) data.identity_policies = at.identityPolicies;
  if (entry.role) data.role = entry.role;
  return data;
}
