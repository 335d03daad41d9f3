import { randomUUID } from 'node:crypto';
import { definePath, field, parseDuration, type CompiledPath } from '../../framework/index.js';
import { badRequest, permissionDenied, type LogicalResponse } from '../../logical/index.js';
import { describeMount, type MountConfig, type MountEntry, type MountTableName, type MountTokenType } from '../mounts/index.js';
import { hasAccessUnder } from '../policy/index.js';
import type { SysDeps } from './sys-deps.js';

const enableFields = {
  path: field.string({ description: 'Where to mount.', required: true }),
  type: field.string({ description: 'Engine or method type.' }),
  description: field.string({ description: 'Human-friendly description.' }),
  config: field.map({ description: 'Mount configuration (TTLs, visibility, audit keys).' }),
  options: field.stringMap({ description: 'Engine options, e.g. {"version": "2"} for KV.' }),
  local: field.bool({ description: 'Not replicated.' }),
  seal_wrap: field.bool({ description: 'Seal-wrap the mount\'s values.' }),
  external_entropy_access: field.bool({ description: 'Give the mount external entropy.' }),
  plugin_version: field.string({ description: 'Plugin version; only builtin engines are available.' }),
};

const tuneFields = {
  path: field.string({ description: 'The mount to tune.', required: true }),
  default_lease_ttl: field.raw({ description: 'Default lease TTL; "system" resets it.' }),
  max_lease_ttl: field.raw({ description: 'Maximum lease TTL; "system" resets it.' }),
  description: field.raw({ description: 'New description.' }),
  options: field.stringMap({ description: 'Options to merge into the mount\'s options.' }),
  listing_visibility: field.string({ description: '"unauth" lists the mount in the UI without a token.' }),
  audit_non_hmac_request_keys: field.strings({ description: 'Request keys audited in the clear.' }),
  audit_non_hmac_response_keys: field.strings({ description: 'Response keys audited in the clear.' }),
  passthrough_request_headers: field.strings({ description: 'Headers passed to the backend.' }),
  allowed_response_headers: field.strings({ description: 'Headers the backend may set.' }),
  user_lockout_config: field.map({ description: 'An auth mount\'s user lockout: lockout_threshold, lockout_duration, lockout_counter_reset_duration, lockout_disable.' }),
  token_type: field.string({ description: 'An auth mount\'s token type: "default-service", "default-batch", "service" or "batch".' }),
};

const TOKEN_TYPES: readonly MountTokenType[] = ['default-service', 'default-batch', 'service', 'batch'];

/** An auth mount's token_type ("default" is "default-service"); the token store's own mount takes none. */
function tokenTypeFrom(v: unknown, table: MountTableName, mountType: string): MountTokenType {
  if (table !== 'auth') throw badRequest('token_type can only be set on auth mounts');
  if (mountType === 'token') throw badRequest('token_type cannot be set on the token auth mount');
  const t = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  const type = t === 'default' || t === '' ? 'default-service' : TOKEN_TYPES.find((x) => x === t);
  if (!type) throw badRequest('invalid token_type: must be "default-service", "default-batch", "service" or "batch"');
  return type;
}

/** user_lockout_config as Vault takes it: durations as "15m" or seconds, the threshold as a number or string. */
function lockoutFrom(raw: unknown): NonNullable<MountConfig['user_lockout_config']> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('user_lockout_config must be an object');
  const out: { -readonly [K in keyof NonNullable<MountConfig['user_lockout_config']>]: NonNullable<MountConfig['user_lockout_config']>[K] } = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null || v === '') continue;
    switch (k) {
      case 'lockout_threshold': {
        const n = typeof v === 'string' ? Number(v) : v;
        if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw badRequest('user_lockout_config: lockout_threshold must be a non-negative integer');
        out.lockout_threshold = n;
        break;
      }
      case 'lockout_duration':
      case 'lockout_counter_reset_duration':
        out[k] = parseDuration(v, `user_lockout_config.${k}`);
        break;
      case 'lockout_disable':
        out.lockout_disable = v === true || v === 'true';
        break;
      default:
        throw badRequest(`user_lockout_config: unknown key "${k.slice(0, 64)}"`);
    }
  }
  return out;
}

function ttlValue(raw: unknown, name: string): number {
  if (raw === 'system' || raw === '') return 0;
  return parseDuration(raw, name);
}

function configFrom(raw: Record<string, unknown>, table: MountTableName, mountType: string): Partial<MountConfig> {
  const out: { -readonly [K in keyof MountConfig]?: MountConfig[K] } = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    switch (k) {
      case 'default_lease_ttl':
      case 'max_lease_ttl':
        out[k] = ttlValue(v, k);
        break;
      case 'force_no_cache':
        out.force_no_cache = v === true || v === 'true';
        break;
      case 'user_lockout_config':
        out.user_lockout_config = lockoutFrom(v);
        break;
      case 'token_type':
        out.token_type = tokenTypeFrom(v, table, mountType);
        break;
      case 'listing_visibility':
        if (v !== '' && v !== 'unauth' && v !== 'hidden') throw badRequest('listing_visibility must be "unauth", "hidden" or ""');
        out.listing_visibility = String(v);
        break;
      case 'audit_non_hmac_request_keys':
      case 'audit_non_hmac_response_keys':
      case 'passthrough_request_headers':
      case 'allowed_response_headers':
        out[k] = field.strings({ description: k }).parse(v, k);
        break;
      default:
        break; // Vault ignores config keys it does not know
    }
  }
  if (out.default_lease_ttl && out.max_lease_ttl && out.default_lease_ttl > out.max_lease_ttl) {
    throw badRequest('default_lease_ttl cannot be greater than max_lease_ttl');
  }
  return out;
}

export function mountPaths(deps: SysDeps): CompiledPath[] {
  const listTable = (table: MountTableName): LogicalResponse => {
    const data: Record<string, unknown> = {};
    for (const e of deps.mounts.entries(table)) data[e.path] = describeMount(e);
    return { data };
  };

  const tuneInfo = (e: MountEntry): Record<string, unknown> => ({
    default_lease_ttl: e.config.default_lease_ttl || deps.systemTtls.defaultTtl,
    max_lease_ttl: e.config.max_lease_ttl || deps.systemTtls.maxTtl,
    force_no_cache: e.config.force_no_cache,
    description: e.description,
    ...(e.options ? { options: e.options } : {}),
    ...Object.fromEntries(
      (['listing_visibility', 'audit_non_hmac_request_keys', 'audit_non_hmac_response_keys', 'passthrough_request_headers', 'allowed_response_headers', 'user_lockout_config'] as const)
        .filter((k) => e.config[k] !== undefined)
        .map((k) => [k, e.config[k]]),
    ),
    ...(e.table === 'auth' && e.type !== 'token' ? { token_type: e.config.token_type ?? 'default-service' } : {}),
  });

  const tablePaths = (table: MountTableName, root: 'mounts' | 'auth'): CompiledPath[] => [
    definePath({
      pattern: root,
      fields: {},
      operations: { read: { summary: `List ${table === 'auth' ? 'auth methods' : 'secrets engines'}.`, handler: async () => listTable(table) } },
      help: { synopsis: 'List mounts.', description: 'Lists every mount of this table with its configuration.' },
    }),
    definePath({
      pattern: `${root}/(?<path>.+?)/tune/?`,
      fields: tuneFields,
      operations: {
        read: {
          summary: 'Read a mount\'s tunable settings.',
          handler: async (_ctx, d) => {
            const m = deps.mounts.find(table, d.path);
            if (!m) throw badRequest(`cannot fetch sysview for path "${d.path}"`);
            return { data: tuneInfo(m.entry) };
          },
        },
        update: {
          summary: 'Tune a mount.',
          handler: async (ctx, d) => {
            const m = deps.mounts.find(table, d.path);
            if (!m) throw badRequest(`no mount at "${d.path}"`);
            const config = configFrom(Object.fromEntries([...ctx.provided].map((k) => [k, ctx.req.data[k]])), table, m.entry.type);
            const merged = { ...m.entry.config, ...config };
            if (merged.default_lease_ttl && merged.max_lease_ttl && merged.default_lease_ttl > merged.max_lease_ttl) {
              throw badRequest('default_lease_ttl cannot be greater than max_lease_ttl');
            }
            const options = ctx.provided.has('options') ? { ...(m.entry.options ?? {}), ...d.options } : undefined;
            if (ctx.provided.has('description') && typeof d.description !== 'string') throw badRequest('description must be a string');
            const { warnings } = await deps.mounts.tune(table, d.path, {
              config,
              ...(options ? { options } : {}),
              ...(typeof d.description === 'string' ? { description: d.description } : {}),
            });
            return warnings.length ? { data: null, warnings } : null;
          },
        },
      },
      help: { synopsis: 'Tune a mount.', description: 'Change TTLs, description, options and visibility of a mount.' },
    }),
    definePath({
      pattern: `${root}/(?<path>.+)`,
      fields: enableFields,
      operations: {
        read: {
          summary: 'Read one mount.',
          handler: async (_ctx, d) => {
            const m = deps.mounts.find(table, d.path);
            return m ? { data: describeMount(m.entry) } : null;
          },
        },
        update: {
          summary: 'Enable a mount.',
          handler: async (_ctx, d) => {
            if (!d.type) throw badRequest('missing type');
            // An alias ("kv-v2") names a registered type with preset options.
            const resolved = deps.mounts.resolveType(table, d.type);
            const options = { ...(resolved?.registration.defaultOptions ?? {}), ...(resolved?.options ?? {}), ...d.options };
            await deps.mounts.mount({
              table,
              path: d.path,
              type: resolved?.type ?? d.type,
              description: d.description,
              config: configFrom(d.config, table, resolved?.type ?? d.type),
              options: Object.keys(options).length ? options : null,
              local: d.local,
              sealWrap: d.seal_wrap,
              externalEntropyAccess: d.external_entropy_access,
            });
            if (d.plugin_version) return { data: null, warnings: ['plugin_version is ignored: only builtin engines are available'] };
            return null;
          },
        },
        delete: {
          summary: 'Disable a mount, revoking what it issued and deleting its data.',
          handler: async (_ctx, d) => {
            await deps.mounts.unmount(table, d.path);
            return null;
          },
        },
      },
      help: { synopsis: 'Enable or disable a mount.', description: 'Disabling a mount revokes its leases and deletes its data.' },
    }),
  ];

  const remount = definePath({
    pattern: 'remount',
    fields: { from: field.string({ description: 'Current path.', required: true }), to: field.string({ description: 'New path.', required: true }) },
    operations: {
      update: {
        summary: 'Move a mount.',
        handler: async (_ctx, d) => {
          await deps.mounts.remount(d.from, d.to);
          return { data: { migration_id: randomUUID() } };
        },
      },
    },
    help: { synopsis: 'Move a mount to another path.', description: 'The data moves with it; the move completes before the response.' },
  });

  const uiMounts = definePath({
    pattern: 'internal/ui/mounts/?',
    fields: {},
    operations: {
      read: {
        summary: 'Mounts visible to the caller.',
        handler: async (ctx) => {
          const acl = ctx.req.caller ? await deps.aclForCaller(ctx.req.caller) : null;
          const visible = (e: MountEntry) =>
            acl ? hasAccessUnder(acl, e.table === 'auth' ? `auth/${e.path}` : e.path) : e.config.listing_visibility === 'unauth';
          const pick = (table: MountTableName) =>
            Object.fromEntries(deps.mounts.entries(table).filter(visible).map((e) => [e.path, describeMount(e)]));
          return { data: { secret: pick('mounts'), auth: pick('auth') } };
        },
      },
    },
    help: { synopsis: 'Mounts for the UI and CLI.', description: 'Lists the mounts the caller can use.' },
  });

  const uiMount = definePath({
    pattern: 'internal/ui/mounts/(?<path>.+)',
    fields: { path: field.string({ description: 'A path under the mount.' }) },
    operations: {
      read: {
        summary: 'The mount serving a path, if the caller may use it.',
        handler: async (ctx, d) => {
          if (!ctx.req.caller) throw permissionDenied();
          const routed = deps.mounts.route(d.path.replace(/^\/+/, ''));
          if (!routed) throw permissionDenied();
          const acl = await deps.aclForCaller(ctx.req.caller);
          if (!hasAccessUnder(acl, routed.mounted.prefix)) throw permissionDenied();
          return { data: { ...describeMount(routed.mounted.entry), path: routed.mounted.entry.path } };
        },
      },
    },
    help: { synopsis: 'The mount serving a path.', description: 'The CLI uses it to detect the KV version of a path.' },
  });

  return [...tablePaths('mounts', 'mounts'), ...tablePaths('auth', 'auth'), remount, uiMounts, uiMount];
}

