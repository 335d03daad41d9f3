import { VAULT_API_VERSION } from '../../util/index.js';

/** Per-mount tunables, as sys/mounts reports them. TTLs in seconds; 0 means the system default. */
export interface MountConfig {
  readonly default_lease_ttl: number;
  readonly max_lease_ttl: number;
  readonly force_no_cache: boolean;
  readonly listing_visibility?: string;
  readonly audit_non_hmac_request_keys?: readonly string[];
  readonly audit_non_hmac_response_keys?: readonly string[];
  readonly passthrough_request_headers?: readonly string[];
  readonly allowed_response_headers?: readonly string[];
  /**
   * An auth mount's token type: "service" or "batch" decide every login's; "default-service"
   * (also when absent) and "default-batch" apply where the role or user names none.
   */
  readonly token_type?: MountTokenType;
  /** An auth mount's user lockout settings, as tuned (seconds); absent means the defaults. */
  readonly user_lockout_config?: {
    readonly lockout_threshold?: number;
    readonly lockout_duration?: number;
    readonly lockout_counter_reset_duration?: number;
    readonly lockout_disable?: boolean;
  };
}

export type MountTableName = 'mounts' | 'auth';

export type MountTokenType = 'default-service' | 'default-batch' | 'service' | 'batch';

/** One row of a mount table. `path` is relative to its table ("secret/", or "token/" for auth). */
export interface MountEntry {
  readonly table: MountTableName;
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly uuid: string;
  readonly accessor: string;
  readonly config: MountConfig;
  readonly options: Readonly<Record<string, string>> | null;
  readonly local: boolean;
  readonly sealWrap: boolean;
  readonly externalEntropyAccess: boolean;
}

/** The path requests use: "secret/" or "auth/token/". */
export function routePath(entry: Pick<MountEntry, 'table' | 'path'>): string {
  return entry.table === 'auth' ? `auth/${entry.path}` : entry.path;
}

/**
 * The barrier prefix of a mount's storage view, the same rule for every type: keyed by the
 * mount's uuid, so it moves with a remount and no mount's view overlaps another's or the
 * core's own stores (sys/policy/, sys/token/).
 */
export function storagePrefix(entry: Pick<MountEntry, 'table' | 'uuid'>): string {
  return entry.table === 'auth' ? `auth/${entry.uuid}/` : `logical/${entry.uuid}/`;
}

/** The mount as sys/mounts and sys/auth list it. */
export function describeMount(entry: MountEntry): Record<string, unknown> {
  const config: Record<string, unknown> = {
    default_lease_ttl: entry.config.default_lease_ttl,
    max_lease_ttl: entry.config.max_lease_ttl,
    force_no_cache: entry.config.force_no_cache,
  };
  for (const k of ['listing_visibility', 'audit_non_hmac_request_keys', 'audit_non_hmac_response_keys', 'passthrough_request_headers', 'allowed_response_headers', 'user_lockout_config', 'token_type'] as const) {
    if (entry.config[k] !== undefined) config[k] = entry.config[k];
  }
  return {
    accessor: entry.accessor,
    config,
    description: entry.description,
    external_entropy_access: entry.externalEntropyAccess,
    local: entry.local,
    options: entry.options,
    plugin_version: '',
    running_plugin_version: `v${VAULT_API_VERSION}+builtin.coffer`,
    running_sha256: '',
    seal_wrap: entry.sealWrap,
    type: entry.type,
    uuid: entry.uuid,
  };
}
