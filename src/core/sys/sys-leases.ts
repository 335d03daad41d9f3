import { definePath, field, type CompiledPath, type PathContext } from '../../framework/index.js';
import { badRequest, type LogicalResponse } from '../../logical/index.js';
import { checkLeaseId, type LeaseEntry } from '../expiration/index.js';
import type { SysDeps } from './sys-deps.js';

const DEFAULT_LIST_LIMIT = 10_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Vault's lookup answer; an expired lease whose revocation failed also says why (coffer's addition). */
function lookupData(entry: LeaseEntry, now: number): Record<string, unknown> {
  return {
    id: entry.id,
    path: entry.path,
    issue_time: iso(entry.issueTime),
    expire_time: iso(entry.expireTime),
    last_renewal: entry.lastRenewal ? iso(entry.lastRenewal) : null,
    renewable: entry.renewable && !entry.revoke,
    ttl: Math.max(0, Math.floor((entry.expireTime - now) / 1000)),
    ...(entry.revoke
      ? {
          irrevocable: entry.revoke.irrevocable,
          revoke_attempts: entry.revoke.attempts,
          revoke_error: entry.revoke.error,
          next_revoke_attempt: entry.revoke.irrevocable ? null : iso(entry.revoke.nextAttempt),
        }
      : {}),
  };
}

/** The lease id of a request: the body's lease_id wins over the one in the URL, as in Vault. */
function leaseIdOf(ctx: PathContext, body: string): string {
  const id = body || (ctx.captures['url_lease_id'] ?? '');
  if (id === '') throw badRequest('lease_id must be specified');
  return checkLeaseId(id, 'lease_id');
}

function prefixOf(ctx: PathContext): string {
  return checkLeaseId(ctx.captures['prefix'] ?? '', 'prefix', { prefix: true });
}

/**
 * sys/leases/* and the legacy sys/renew, sys/revoke, sys/revoke-prefix, sys/revoke-force.
 * Listing, revoke-prefix, revoke-force and the irrevocable list need sudo (SUDO_PATHS).
 */
export function leasePaths(deps: SysDeps): CompiledPath[] {
  const { leases } = deps;
  const renewFields = {
    lease_id: field.string({ description: 'The lease to renew.' }),
    increment: field.durationSeconds({ description: 'Requested extension; 0 for the default TTL.' }),
  };
  const revokeFields = {
    lease_id: field.string({ description: 'The lease to revoke.' }),
    sync: field.bool({ description: 'Answer only once revoked, with the error if it fails.', default: false }),
  };
  const prefixField = field.string({ description: 'The prefix, from the URL (hvac also sends it in the body).' });
  const prefixFields = { prefix: prefixField, sync: field.bool({ description: 'Answer only once revoked, with the error if one fails.', default: false }) };

  const renew = async (ctx: PathContext, d: { lease_id: string; increment: number }): Promise<LogicalResponse> => {
    const { lease, warnings } = await leases.renew(leaseIdOf(ctx, d.lease_id), d.increment);
    return { lease, ...(warnings.length ? { warnings: [...warnings] } : {}) };
  };
  const revoke = async (ctx: PathContext, d: { lease_id: string; sync: boolean }): Promise<null> => {
    await leases.revoke(leaseIdOf(ctx, d.lease_id), { sync: d.sync });
    return null;
  };
  // Under auth/, the leases are the tokens logins issued there (Vault's `lease revoke -prefix
  // auth/approle/login`): those tokens go too, with their children and leases.
  const revokeTokens = async (prefix: string) => {
    if (prefix.startsWith('auth/')) await deps.revokeTokensUnder(prefix.endsWith('/') ? prefix : `${prefix}/`);
  };
  const revokePrefix = async (ctx: PathContext, d: { sync: boolean }): Promise<null> => {
    const prefix = prefixOf(ctx);
    await revokeTokens(prefix);
    await leases.revokePrefix(prefix, { sync: d.sync });
    return null;
  };
  const revokeForce = async (ctx: PathContext): Promise<null> => {
    const prefix = prefixOf(ctx);
    await revokeTokens(prefix);
    await leases.revokePrefix(prefix, { force: true });
    return null;
  };
  const withOptionalId = (base: string) => `${base}(?:/(?<url_lease_id>.+))?`;

  return [
    definePath({
      pattern: 'leases/lookup',
      fields: { lease_id: field.string({ description: 'The lease to look up.', required: true }) },
      operations: {
        update: {
          summary: 'Look up a lease.',
          handler: async (ctx, d) => {
            const entry = await leases.lookup(checkLeaseId(d.lease_id, 'lease_id'));
            if (!entry) throw badRequest('invalid lease');
            return { data: lookupData(entry, ctx.system.clock.now()) };
          },
        },
      },
      help: { synopsis: 'Look up a lease by its id.', description: 'Issue, expiry and last renewal times, renewability and TTL.' },
    }),
    definePath({
      pattern: 'leases/lookup/(?<prefix>.*)',
      fields: {},
      operations: {
        list: {
          summary: 'List lease ids under a prefix.',
          handler: async (ctx) => {
            // The pipeline ends every list path in "/", so the prefix is "" or a folder.
            const prefix = ctx.captures['prefix'] ?? '';
            if (prefix !== '') checkLeaseId(prefix, 'prefix', { prefix: true });
            const keys = await leases.list(prefix);
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
      help: { synopsis: 'List leases by prefix (sudo).', description: 'Folders end in "/".' },
    }),
    ...['leases/renew', 'renew'].map((base) =>
      definePath({
        pattern: withOptionalId(base),
        fields: renewFields,
        operations: { update: { summary: 'Renew a lease.', handler: renew } },
        help: { synopsis: 'Renew a lease.', description: 'The backend renews the secret; the TTL is capped by the role\'s and the mount\'s max TTL.' },
      }),
    ),
    ...['leases/revoke', 'revoke'].map((base) =>
      definePath({
        pattern: withOptionalId(base),
        fields: revokeFields,
        operations: { update: { summary: 'Revoke a lease.', handler: revoke } },
        help: { synopsis: 'Revoke a lease.', description: 'A failed revocation is retried with backoff; with sync=true its error is answered.' },
      }),
    ),
    ...['leases/revoke-prefix', 'revoke-prefix'].map((base) =>
      definePath({
        pattern: `${base}/(?<prefix>.+)`,
        fields: prefixFields,
        operations: { update: { summary: 'Revoke every lease under a prefix.', handler: revokePrefix } },
        help: { synopsis: 'Revoke leases by prefix (sudo).', description: 'A prefix that is a lease id revokes that lease.' },
      }),
    ),
    ...['leases/revoke-force', 'revoke-force'].map((base) =>
      definePath({
        pattern: `${base}/(?<prefix>.+)`,
        fields: { prefix: prefixField },
        operations: { update: { summary: 'Delete leases under a prefix even where revocation fails.', handler: revokeForce } },
        help: { synopsis: 'Force-revoke leases by prefix (sudo).', description: 'Dangerous: the secrets may outlive their leases.' },
      }),
    ),
    definePath({
      pattern: 'leases/tidy',
      fields: {},
      operations: {
        update: {
          summary: 'Revoke leases of tokens that are gone and remove dangling index rows.',
          handler: async () => {
            const { revoked, removedRows } = await leases.tidy();
            return { data: { revoked_leases: revoked, removed_index_entries: removedRows } };
          },
        },
      },
      help: { synopsis: 'Tidy the lease store.', description: 'Runs to completion before it answers.' },
    }),
    definePath({
      pattern: 'leases/count',
      fields: { type: field.string({ description: 'Type of lease to count; only "irrevocable".', required: true }), include_child_namespaces: field.bool({ description: 'Accepted; coffer has no namespaces.' }) },
      operations: {
        read: {
          summary: 'Count irrevocable leases, in all and per mount.',
          handler: async (_ctx, d) => {
            if (d.type !== 'irrevocable') throw badRequest('invalid type: only "irrevocable" is supported');
            const { total, counts } = await leases.irrevocableCounts();
            return { data: { lease_count: total, counts } };
          },
        },
      },
      help: { synopsis: 'Count irrevocable leases.', description: 'Per mount accessor.' },
    }),
    definePath({
      pattern: 'leases',
      fields: {
        type: field.string({ description: 'Type of lease to list; only "irrevocable".', required: true }),
        limit: field.string({ description: 'Most leases to list (default 10000); "none" for all.' }),
        include_child_namespaces: field.bool({ description: 'Accepted; coffer has no namespaces.' }),
      },
      operations: {
        read: {
          summary: 'List irrevocable leases with their errors.',
          handler: async (_ctx, d) => {
            if (d.type !== 'irrevocable') throw badRequest('invalid type: only "irrevocable" is supported');
            let limit = DEFAULT_LIST_LIMIT;
            if (d.limit === 'none') limit = Infinity;
            else if (d.limit !== '') {
              limit = Number(d.limit);
              if (!Number.isSafeInteger(limit) || limit < 1) throw badRequest('field "limit" must be a positive integer or "none"');
            }
            const { leases: list, total } = await leases.irrevocable(limit);
            const warnings = total > list.length ? [`showing ${list.length} of ${total} irrevocable leases; set limit=none to see all`] : [];
            return { data: { lease_count: total, leases: list }, ...(warnings.length ? { warnings } : {}) };
          },
        },
      },
      help: { synopsis: 'List irrevocable leases (sudo).', description: 'Each with its mount and the error that made it irrevocable.' },
    }),
  ];
}
