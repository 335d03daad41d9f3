import { definePath, field, genericName, type CompiledPath } from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import type { Quota, QuotaType } from '../quotas/quotas.js';
import type { SysDeps } from './sys-deps.js';

/** A quota's path as stored: "" (global), a mount with its slash ("kv/"), or a path under a mount. */
function quotaPath(deps: SysDeps, raw: string): string {
  const path = raw.trim().replace(/^\/+/, '');
  if (path === '') return '';
  const routed = deps.mounts.route(path.replace(/\*$/, ''));
  if (!routed) throw badRequest(`invalid mount path "${path.slice(0, 256)}": no secrets engine or auth method is mounted there`);
  const mount = routed.mounted.prefix;
  return path === mount || `${path}/` === mount ? mount : path;
}

/** The rate a quota allows: a positive number, given as a number or a numeric string. */
function positiveNumber(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw badRequest(`'${name}' is invalid: it must be a positive number`);
  return n;
}

const commonFields = {
  name: field.string({ description: 'Name of the quota.' }),
  path: field.string({ description: 'Where it applies: "" for every request, a mount ("kv/"), or a path under one ("kv/data/app", a trailing "*" for a prefix).' }),
  role: field.string({ description: 'A login role of the auth mount at path: only logins naming it count.' }),
  inheritable: field.bool({ description: 'Accepted for compatibility (namespaces inherit quotas; coffer has only the root namespace).' }),
};

function checkRole(deps: SysDeps, path: string, role: string): void {
  if (role === '') return;
  if (!path.startsWith('auth/') || deps.mounts.route(path)?.mounted.prefix !== path) throw badRequest('role can only be set when path is the mount of an auth method (such as "auth/approle/")');
}

function crud(deps: SysDeps, type: QuotaType, build: (d: Record<string, unknown>, path: string, provided: ReadonlySet<string>) => Quota): CompiledPath[] {
  const q = deps.quotas;
  const title = type === 'rate-limit' ? 'rate limit' : 'lease count';
  return [
    definePath({
      pattern: `quotas/${type}/?`,
      fields: {},
      operations: { list: { summary: `List the ${title} quotas.`, handler: async () => ({ data: { keys: q.names(type) } }) } },
      help: { synopsis: `The ${title} quotas.`, description: 'Their names.' },
    }),
    definePath({
      pattern: `quotas/${type}/${genericName('name')}`,
      fields: {
        ...commonFields,
        rate: field.raw({ description: 'Requests allowed per interval from each client address (rate limit).' }),
        interval: field.durationSeconds({ description: 'The interval the rate applies to (default 1s).' }),
        block_interval: field.durationSeconds({ description: 'How long a client that went over is refused for (default 0).' }),
        max_leases: field.int({ description: 'Leases (and stored tokens) that may exist under path at once (lease count).' }),
      },
      operations: {
        read: {
          summary: `Read a ${title} quota.`,
          handler: async (_ctx, d) => {
            const quota = q.get(type, d.name);
            return quota ? { data: { ...quota } } : null;
          },
        },
        update: {
          summary: `Create or replace a ${title} quota.`,
          handler: async (ctx, d) => {
            const old = q.get(type, d.name);
            const path = quotaPath(deps, ctx.provided.has('path') ? d.path : (old?.path ?? ''));
            const merged: Record<string, unknown> = { ...(old ?? {}), ...Object.fromEntries([...ctx.provided].map((k) => [k, (d as Record<string, unknown>)[k]])) };
            const quota = build(merged, path, ctx.provided);
            checkRole(deps, quota.path, quota.role);
            await q.set(quota);
            return null;
          },
        },
        delete: {
          summary: `Delete a ${title} quota.`,
          handler: async (_ctx, d) => {
            await q.delete(type, d.name);
            return null;
          },
        },
      },
      help: { synopsis: `A ${title} quota.`, description: 'Requests over it are answered 429.' },
    }),
  ];
}

/** sys/quotas/config, sys/quotas/rate-limit/:name and sys/quotas/lease-count/:name. */
export function quotaPaths(deps: SysDeps): CompiledPath[] {
  const q = deps.quotas;
  return [
    definePath({
      pattern: 'quotas/config',
      fields: {
        enable_rate_limit_audit_logging: field.bool({ description: 'Record requests a rate limit refused in the audit log.' }),
        enable_rate_limit_response_headers: field.bool({ description: 'Answer X-Ratelimit-Limit, -Remaining and -Reset headers.' }),
        rate_limit_exempt_paths: field.strings({ description: 'Paths no rate limit applies to (a trailing "*" for a prefix).' }),
        absolute_rate_limit_exempt_paths: field.strings({ description: 'More paths no rate limit applies to.' }),
      },
      operations: {
        read: { summary: 'Read the quota settings.', handler: async () => ({ data: { ...q.config() } }) },
        update: {
          summary: 'Change the quota settings.',
          handler: async (ctx, d) => {
            const strip = (paths: string[]) => paths.map((p) => p.trim().replace(/^\/?(v1\/)?/, '')).filter((p) => p !== '');
            await q.setConfig({
              ...(ctx.provided.has('enable_rate_limit_audit_logging') ? { enable_rate_limit_audit_logging: d.enable_rate_limit_audit_logging } : {}),
              ...(ctx.provided.has('enable_rate_limit_response_headers') ? { enable_rate_limit_response_headers: d.enable_rate_limit_response_headers } : {}),
              ...(ctx.provided.has('rate_limit_exempt_paths') ? { rate_limit_exempt_paths: strip(d.rate_limit_exempt_paths) } : {}),
              ...(ctx.provided.has('absolute_rate_limit_exempt_paths') ? { absolute_rate_limit_exempt_paths: strip(d.absolute_rate_limit_exempt_paths) } : {}),
            });
            return null;
          },
        },
      },
      help: { synopsis: 'Quota settings.', description: 'Audit logging and headers of rate limits, and the paths they never apply to.' },
    }),
    ...crud(deps, 'rate-limit', (d, path) => {
      const interval = d['interval'] === undefined ? 1 : Number(d['interval']);
      const block = d['block_interval'] === undefined ? 0 : Number(d['block_interval']);
      if (!(interval >= 1)) throw badRequest("'interval' must be at least 1s");
      if (!(block >= 0)) throw badRequest("'block_interval' must not be negative");
      return { name: String(d['name']), type: 'rate-limit', path, role: String(d['role'] ?? ''), rate: positiveNumber(d['rate'], 'rate'), interval, block_interval: block, inheritable: d['inheritable'] === true };
    }),
    ...crud(deps, 'lease-count', (d, path) => {
      const max = Number(d['max_leases'] ?? 0);
      if (!Number.isSafeInteger(max) || max <= 0) throw badRequest("'max_leases' must be a positive number");
      return { name: String(d['name']), type: 'lease-count', path, role: String(d['role'] ?? ''), max_leases: max, inheritable: d['inheritable'] === true };
    }),
  ];
}
